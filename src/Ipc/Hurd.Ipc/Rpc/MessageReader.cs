using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hurd.Ipc.Ports;

namespace Hurd.Ipc.Rpc;

/// <summary>
/// Reads a message body written by <see cref="MessageWriter"/>. Built for hostile input:
/// it never throws; reading past the end, a bad length or a bad right index returns a
/// default value and sets <see cref="Error"/>, which the generated dispatch checks once
/// after reading all arguments (and then answers EBADMSG).
/// </summary>
public ref struct MessageReader
{
    private readonly ReadOnlySpan<byte> _body;
    private readonly ReadOnlySpan<RightDescriptor> _rights;
    private int _pos;
    private bool _error;

    public MessageReader(ReadOnlySpan<byte> body, ReadOnlySpan<RightDescriptor> rights)
    {
        _body = body;
        _rights = rights;
        _pos = 0;
        _error = false;
    }

    /// <summary>True once any read went out of bounds or was malformed.</summary>
    public readonly bool Error => _error;
    public readonly int Position => _pos;
    public readonly int Remaining => _body.Length - _pos;
    public readonly ReadOnlySpan<RightDescriptor> Rights => _rights;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int align, int size)
    {
        int p = (_pos + align - 1) & ~(align - 1);
        if (size < 0 || (uint)p > (uint)_body.Length || (uint)size > (uint)(_body.Length - p)) { _error = true; _pos = _body.Length; return default; }
        _pos = p + size;
        return _body.Slice(p, size);
    }

    public int ReadInt32() { var s = Take(4, 4); return s.IsEmpty ? 0 : BinaryPrimitives.ReadInt32LittleEndian(s); }
    public uint ReadUInt32() { var s = Take(4, 4); return s.IsEmpty ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(s); }
    public long ReadInt64() { var s = Take(8, 8); return s.IsEmpty ? 0 : BinaryPrimitives.ReadInt64LittleEndian(s); }
    public ulong ReadUInt64() { var s = Take(8, 8); return s.IsEmpty ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(s); }
    public bool ReadBool() => ReadUInt32() != 0;

    /// <summary>A byte array (a view into the message, valid while the message is).</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        int n = ReadInt32();
        if (_error) return default;
        if (n < 0) { _error = true; return default; }
        var s = Take(4, (int)Math.Min(((long)n + 3) & ~3L, int.MaxValue));
        return s.IsEmpty ? default : s[..n];
    }

    /// <summary>An unmanaged struct written by <see cref="MessageWriter.WriteStruct{T}"/>.</summary>
    public T ReadStruct<T>() where T : unmanaged
    {
        var s = Take(8, Unsafe.SizeOf<T>());
        return s.IsEmpty ? default : MemoryMarshal.Read<T>(s);
    }

    /// <summary>A right: the descriptor the body's index names (name already in the reader's space).</summary>
    public PortName ReadRight() => ReadRight(out _);

    /// <summary>A right and how it was sent.</summary>
    public PortName ReadRight(out Disposition disposition)
    {
        int i = ReadInt32();
        if (_error || (uint)i >= (uint)_rights.Length) { _error = true; disposition = Disposition.None; return PortName.Null; }
        disposition = _rights[i].Disposition;
        return new PortName(_rights[i].Name);
    }

    // ---- Added for the stub generator (src/Ipc/Hurd.Ipc.Generator); the rules above are unchanged.

    /// <summary>The index <see cref="MessageWriter.WriteOptionalRight"/> writes for a null port (no descriptor).</summary>
    public const uint NullRightIndex = 0xFFFF_FFFF;

    /// <summary>
    /// An id array written by <see cref="MessageWriter.WriteUInt32s"/> (a view into the message).
    /// A byte length that is not a multiple of 4 sets <see cref="Error"/>.
    /// </summary>
    public ReadOnlySpan<uint> ReadUInt32s()
    {
        var b = ReadBytes();
        if (_error) return default;
        if ((b.Length & 3) != 0) { _error = true; return default; }
        if (!BitConverter.IsLittleEndian) { _error = true; return default; }
        return MemoryMarshal.Cast<byte, uint>(b);
    }

    /// <summary>
    /// A right written by <see cref="MessageWriter.WriteOptionalRight"/>: <see cref="PortName.Null"/>
    /// (disposition None) for the null index, otherwise as <see cref="ReadRight(out Disposition)"/>.
    /// </summary>
    public PortName ReadOptionalRight(out Disposition disposition)
    {
        int save = _pos;
        if (ReadUInt32() == NullRightIndex && !_error) { disposition = Disposition.None; return PortName.Null; }
        if (_error) { disposition = Disposition.None; return PortName.Null; }
        _pos = save;
        return ReadRight(out disposition);
    }
}
