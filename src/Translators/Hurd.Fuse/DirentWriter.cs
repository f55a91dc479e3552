using System.Runtime.InteropServices;
using Hurd.Fuse.Abi;

namespace Hurd.Fuse;

/// <summary>
/// Packs directory entries into a READDIR or READDIRPLUS reply, stopping when the kernel's buffer is full.
/// </summary>
/// <remarks>
/// Each record carries the cookie (<c>nextOffset</c>) from which the listing resumes <em>after</em> this
/// entry; the kernel passes it back as the next request's offset. Cookies are opaque: they need not be
/// indexes, and a listing that changes between calls must neither skip nor repeat entries (a snapshot per
/// open handle, or real positions, are the usual answers). An empty reply means end of directory.
/// <para>Lookup counts: in a READDIRPLUS reply each accepted record with a non-zero node id, except
/// "." and "..", gives that node +1 lookup count once the reply is delivered. A filesystem counts only
/// the records <see cref="TryAddPlus"/> accepted (it returns false for the first one that did not fit).</para>
/// </remarks>
public ref struct DirentWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>A writer over <paramref name="buffer"/>; <paramref name="plus"/> selects READDIRPLUS records.</summary>
    public DirentWriter(Span<byte> buffer, bool plus)
    {
        _buffer = buffer;
        IsPlus = plus;
    }

    /// <summary>True for a READDIRPLUS reply (records carry an <see cref="EntryOut"/>).</summary>
    public bool IsPlus { get; }
    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;
    /// <summary>Records written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Size of a READDIR record for a name of <paramref name="nameLength"/> bytes.</summary>
    public static int DirentSize(int nameLength) => Align8(24 + nameLength);
    /// <summary>Size of a READDIRPLUS record for a name of <paramref name="nameLength"/> bytes.</summary>
    public static int DirentplusSize(int nameLength) => Align8(152 + nameLength);

    /// <summary>
    /// Adds an entry without attributes. In a READDIRPLUS reply the record's entry is zero (node id 0),
    /// which the kernel takes as "no attributes", so no lookup count is given.
    /// </summary>
    /// <returns>False, writing nothing, if the record does not fit or the name is empty or longer than 255 bytes.</returns>
    public bool TryAdd(ulong ino, ulong nextOffset, DirentType type, ReadOnlySpan<byte> name)
    {
        if (IsPlus)
        {
            EntryOut none = default;
            none.Attr.Ino = ino;
            none.Attr.Mode = (uint)type << 12;
            return TryAddCore(in none, ino, nextOffset, type, name);
        }
        return TryAddCore(default, ino, nextOffset, type, name);
    }

    /// <summary>
    /// Adds an entry with attributes. In a READDIR reply only the name, inode number (<c>entry.Attr.Ino</c>)
    /// and type are written, so one implementation can serve both opcodes.
    /// </summary>
    /// <returns>False, writing nothing, if the record does not fit or the name is empty or longer than 255 bytes.</returns>
    public bool TryAddPlus(in EntryOut entry, ulong nextOffset, ReadOnlySpan<byte> name) =>
        TryAddCore(in entry, entry.Attr.Ino, nextOffset, (DirentType)((entry.Attr.Mode >> 12) & 0xF), name);

    private bool TryAddCore(in EntryOut entry, ulong ino, ulong nextOffset, DirentType type, ReadOnlySpan<byte> name)
    {
        if (name.Length == 0 || name.Length > FuseKernel.NameMax) return false;
        int head = IsPlus ? 152 : 24;
        int size = Align8(head + name.Length);
        if (_length + size > _buffer.Length) return false;
        Span<byte> rec = _buffer.Slice(_length, size);
        if (IsPlus) MemoryMarshal.Write(rec, in entry);
        var d = new FuseDirent { Ino = ino, Off = nextOffset, Namelen = (uint)name.Length, Type = type };
        MemoryMarshal.Write(rec.Slice(head - 24), in d);
        name.CopyTo(rec.Slice(head));
        rec.Slice(head + name.Length).Clear();
        _length += size;
        Count++;
        return true;
    }

    private static int Align8(int n) => (n + 7) & ~7;

    /// <summary>The type of a directory entry for a mode (the S_IFMT bits shifted right by 12).</summary>
    public static DirentType TypeOf(uint mode) => (DirentType)((mode >> 12) & 0xF);

    /// <summary>True for the names "." and "..", which never count as lookups in READDIRPLUS.</summary>
    public static bool IsDotOrDotDot(ReadOnlySpan<byte> name) =>
        (name.Length == 1 && name[0] == (byte)'.') || (name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.');
}
