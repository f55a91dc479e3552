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
    private readonly bool _nonTemporal;
    private readonly bool _discard;

    /// <summary>A writer over <paramref name="body"/>, with room for <paramref name="rights"/>.</summary>
    public MessageWriter(Span<byte> body, Span<RightDescriptor> rights) : this(body, rights, false) { }

    /// <summary>A writer whose large byte arrays are copied with non-temporal stores (<see cref="BulkCopy"/>):
    /// the transport asks for it when the body is in shared memory that another CPU will read.</summary>
    internal MessageWriter(Span<byte> body, Span<RightDescriptor> rights, bool nonTemporal) : this(body, rights, nonTemporal, false) { }

    private MessageWriter(Span<byte> body, Span<RightDescriptor> rights, bool nonTemporal, bool discard)
    {
        _body = body;
        _rights = rights;
        _pos = 0;
        _rightCount = 0;
        _overflow = false;
        _nonTemporal = nonTemporal;
        _discard = discard;
    }

    /// <summary>
    /// A writer that accepts everything and keeps nothing (it never overflows): the request of a call that cannot
    /// start (a dead port, a disposed right). The stub then writes its arguments as usual and gets the call's real
    /// error (EDIED, EBADF...) from Invoke/Send, instead of EMSGSIZE from an overflowing empty buffer.
    /// </summary>
    internal static MessageWriter Discarding() => new(default, default, false, true);

    /// <summary>Bytes written so far (before the final padding to 8).</summary>
    public readonly int Position => _pos;
    /// <summary>The body written so far, padded with zeros to a multiple of 8.</summary>
    public readonly int PaddedLength => (_pos + 7) & ~7;
    public readonly int RightCount => _rightCount;
    public readonly bool Overflow => _overflow;
    /// <summary>The rights written so far.</summary>
    public readonly ReadOnlySpan<RightDescriptor> Rights => _rights[.._rightCount];
    /// <summary>The body written so far, without padding.</summary>
    public readonly ReadOnlySpan<byte> Written => _discard ? default : _body[.._pos];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Take(int align, int size)
    {
        int p = (_pos + align - 1) & ~(align - 1);
        if ((uint)(p + size) > (uint)_body.Length) return TakeFailed(p, size);
        _body[_pos..p].Clear();
        _pos = p + size;
        return _body.Slice(p, size);
    }

    private Span<byte> TakeFailed(int p, int size)
    {
        if (_discard) _pos = (int)Math.Min((long)p + Math.Max(size, 0), int.MaxValue & ~7);
        else _overflow = true;
        return default;
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
        BulkCopy.Copy(data, s, _nonTemporal);
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
        if (room < 0) { if (!_discard) _overflow = true; return default; }
        return _body.Slice(lenAt + 4, Math.Min(Math.Max(max, 0), room & ~3));
    }

    /// <summary>Completes a <see cref="ReserveBytes"/> with the <paramref name="length"/> used.</summary>
    public void CommitBytes(int length)
    {
        var l = Take(4, 4);
        if (l.IsEmpty) return;
        BinaryPrimitives.WriteInt32LittleEndian(l, length);
        int padded = (length + 3) & ~3;
        if ((uint)(_pos + padded) > (uint)_body.Length) { TakeFailed(_pos, padded); return; }
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
        if (_rightCount >= _rights.Length)
        {
            if (_discard) WriteInt32(0); else _overflow = true;
            return;
        }
        _rights[_rightCount] = new RightDescriptor(name, disposition);
        WriteInt32(_rightCount++);
    }

    // ---- Added for the stub generator (src/Ipc/Hurd.Ipc.Generator); the rules above are unchanged.

    /// <summary>The body buffer's size in bytes: the most a message written here can hold.</summary>
    public readonly int Capacity => _body.Length;

    /// <summary>
    /// An id array (uid_t/gid_t vectors): written as a byte array of 4·n bytes, the u32s
    /// little-endian, so the reader gets it back as <see cref="MessageReader.ReadUInt32s"/>.
    /// </summary>
    public void WriteUInt32s(ReadOnlySpan<uint> values)
    {
        if (BitConverter.IsLittleEndian) { WriteBytes(MemoryMarshal.AsBytes(values)); return; }
        WriteInt32(values.Length * 4);
        var s = Take(4, values.Length * 4);
        if (s.IsEmpty) return;
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(s[(i * 4)..], values[i]);
    }

    /// <summary>
    /// A right that may be null (MACH_PORT_NULL): <see cref="PortName.Null"/> is written as the
    /// index 0xFFFFFFFF with no descriptor; any other name as <see cref="WriteRight"/>.
    /// </summary>
    public void WriteOptionalRight(PortName name, Disposition disposition)
    {
        if (name.IsNull) WriteUInt32(MessageReader.NullRightIndex);
        else WriteRight(name, disposition);
    }

    /// <summary>
    /// A view of the unwritten buffer from <see cref="Position"/> + <paramref name="offset"/>, at most
    /// <paramref name="length"/> bytes (less near the end; empty if out of range). Nothing is
    /// written or advanced: a dispatch lends these regions to a server routine for its out
    /// arrays, then writes them in order with <see cref="WriteBytes"/>, which moves the data down
    /// (the copy is overlap-safe).
    /// </summary>
    public readonly Span<byte> Ahead(int offset, int length)
    {
        long start = (long)_pos + offset;
        if (offset < 0 || length <= 0 || start >= _body.Length) return default;
        return _body.Slice((int)start, (int)Math.Min(length, _body.Length - start));
    }

    /// <summary>
    /// Overwrites the 4 bytes at <paramref name="offset"/> (already written) with <paramref name="value"/>:
    /// a server's dispatch writes a reply's return code last, after the out data it wrote in place.
    /// Out-of-range offsets set <see cref="Overflow"/>.
    /// </summary>
    public void PatchInt32(int offset, int value)
    {
        if (_discard) return;
        if (offset < 0 || offset > _pos - 4) { _overflow = true; return; }
        BinaryPrimitives.WriteInt32LittleEndian(_body.Slice(offset, 4), value);
    }

    /// <summary>
    /// Discards everything written after <paramref name="position"/> and all rights after the
    /// first <paramref name="rightCount"/>, and clears <see cref="Overflow"/>: a dispatch that must
    /// answer with an error code alone (or defer its reply) after it started writing outs.
    /// Arguments beyond what was written are clamped.
    /// </summary>
    public void Rewind(int position, int rightCount)
    {
        _pos = Math.Clamp(position, 0, _pos);
        _rightCount = Math.Clamp(rightCount, 0, _rightCount);
        _overflow = false;
    }
}
