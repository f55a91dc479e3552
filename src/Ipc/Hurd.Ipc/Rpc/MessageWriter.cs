using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hurd.Ipc.Ports;

namespace Hurd.Ipc.Rpc;

/// <summary>
/// Writes a message body: the encoding every generated stub uses (the wire format is
/// pinned by golden-byte tests). Rules, all little-endian:
/// <list type="bullet">
/// <item>scalars of 1, 2 or 4 bytes take 4 bytes (bool as 0/1); 8-byte scalars are 8-aligned;</item>
/// <item>a byte array is a u32 length, the bytes, then zero padding to a multiple of 4;</item>
/// <item>an unmanaged struct is 8-aligned and copied as its memory layout;</item>
/// <item>a right is a u32 index into the right descriptors that follow the body.</item>
/// </list>
/// The writer never throws and never allocates: writing past the end sets
/// <see cref="Overflow"/>, and the transport then refuses the message with EMSGSIZE.
/// </summary>
public ref struct MessageWriter
{
    private readonly Span<byte> _body;
    private readonly Span<RightDescriptor> _rights;
    private int _pos;
    private int _rightCount;
    private bool _overflow;

    /// <summary>A writer over <paramref name="body"/>, with room for <paramref name="rights"/>.</summary>
    public MessageWriter(Span<byte> body, Span<RightDescriptor> rights)
    {
        _body = body;
        _rights = rights;
        _pos = 0;
        _rightCount = 0;
        _overflow = false;
    }

    /// <summary>Bytes written so far (before the final padding to 8).</summary>
    public readonly int Position => _pos;
    /// <summary>The body written so far, padded with zeros to a multiple of 8.</summary>
    public readonly int PaddedLength => (_pos + 7) & ~7;
    public readonly int RightCount => _rightCount;
    public readonly bool Overflow => _overflow;
    /// <summary>The rights written so far.</summary>
    public readonly ReadOnlySpan<RightDescriptor> Rights => _rights[.._rightCount];
    /// <summary>The body written so far, without padding.</summary>
    public readonly ReadOnlySpan<byte> Written => _body[.._pos];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Take(int align, int size)
    {
        int p = (_pos + align - 1) & ~(align - 1);
        if ((uint)(p + size) > (uint)_body.Length) { _overflow = true; return default; }
        _body[_pos..p].Clear();
        _pos = p + size;
        return _body.Slice(p, size);
    }

    public void WriteInt32(int v) { var s = Take(4, 4); if (!s.IsEmpty) BinaryPrimitives.WriteInt32LittleEndian(s, v); }
    public void WriteUInt32(uint v) { var s = Take(4, 4); if (!s.IsEmpty) BinaryPrimitives.WriteUInt32LittleEndian(s, v); }
    public void WriteInt64(long v) { var s = Take(8, 8); if (!s.IsEmpty) BinaryPrimitives.WriteInt64LittleEndian(s, v); }
    public void WriteUInt64(ulong v) { var s = Take(8, 8); if (!s.IsEmpty) BinaryPrimitives.WriteUInt64LittleEndian(s, v); }
    public void WriteBool(bool v) => WriteUInt32(v ? 1u : 0u);

    /// <summary>A u32 length, the bytes, padding to 4.</summary>
    public void WriteBytes(ReadOnlySpan<byte> data)
    {
        WriteInt32(data.Length);
        var s = Take(4, (data.Length + 3) & ~3);
        if (s.IsEmpty && data.Length != 0) return;
        data.CopyTo(s);
        s[data.Length..].Clear();
    }

    /// <summary>
    /// Reserves room for a byte array of at most <paramref name="max"/> bytes to be filled in
    /// place (a server writing io_read data straight into the reply). Call
    /// <see cref="CommitBytes"/> with the length actually used before writing anything else.
    /// </summary>
    public Span<byte> ReserveBytes(int max)
    {
        int lenAt = (_pos + 3) & ~3;
        int room = _body.Length - lenAt - 4;
        if (room < 0) { _overflow = true; return default; }
        return _body.Slice(lenAt + 4, Math.Min(Math.Max(max, 0), room & ~3));
    }

    /// <summary>Completes a <see cref="ReserveBytes"/> with the <paramref name="length"/> used.</summary>
    public void CommitBytes(int length)
    {
        var l = Take(4, 4);
        if (l.IsEmpty) return;
        BinaryPrimitives.WriteInt32LittleEndian(l, length);
        int padded = (length + 3) & ~3;
        if ((uint)(_pos + padded) > (uint)_body.Length) { _overflow = true; return; }
        _body.Slice(_pos + length, padded - length).Clear();
        _pos += padded;
    }

    /// <summary>An unmanaged struct, 8-aligned, as its memory layout.</summary>
    public void WriteStruct<T>(in T value) where T : unmanaged
    {
        var s = Take(8, Unsafe.SizeOf<T>());
        if (!s.IsEmpty) MemoryMarshal.Write(s, in value);
    }

    /// <summary>A right: a u32 index into the descriptors, which carry name and disposition.</summary>
    public void WriteRight(PortName name, Disposition disposition)
    {
        if (_rightCount >= _rights.Length) { _overflow = true; return; }
        _rights[_rightCount] = new RightDescriptor(name, disposition);
        WriteInt32(_rightCount++);
    }
}
