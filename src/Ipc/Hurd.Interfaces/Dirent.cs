using System.Buffers.Binary;

namespace Hurd.Interfaces;

/// <summary>A directory entry's file type (d_type, DT_*).</summary>
public enum DirentType : byte
{
    /// <summary>DT_UNKNOWN: the client must stat to learn it.</summary>
    Unknown = 0,
    /// <summary>DT_FIFO.</summary>
    Fifo = 1,
    /// <summary>DT_CHR.</summary>
    CharDevice = 2,
    /// <summary>DT_DIR.</summary>
    Directory = 4,
    /// <summary>DT_BLK.</summary>
    BlockDevice = 6,
    /// <summary>DT_REG.</summary>
    Regular = 8,
    /// <summary>DT_LNK.</summary>
    Symlink = 10,
    /// <summary>DT_SOCK.</summary>
    Socket = 12,
}

/// <summary>
/// The packed entries dir_readdir returns (the Hurd's <c>struct dirent64</c>, little-endian):
/// <code>
///  0 u64 d_ino
///  8 u16 d_reclen   bytes of this entry, a multiple of 8
/// 10 u8  d_type     DirentType
/// 11 u8  d_namlen   1..255
/// 12     d_name     the name's bytes, a NUL, zero padding up to d_reclen
/// </code>
/// Entries follow each other with no gap. Entry i of a dir_readdir reply is the directory's
/// entry number (entry + i): a client continues with entry + amount.
/// </summary>
public static class DirentFormat
{
    /// <summary>Bytes before the name.</summary>
    public const int HeaderLength = 12;

    /// <summary>The d_reclen of an entry with a name of <paramref name="nameLength"/> bytes.</summary>
    public static int RecordLength(int nameLength) => (HeaderLength + nameLength + 1 + 7) & ~7;

    /// <summary>True if <paramref name="name"/> can be a directory entry: 1-255 bytes, no '/' and no NUL.</summary>
    public static bool IsValidName(ReadOnlySpan<byte> name)
        => name.Length is > 0 and <= HurdLimits.NameMax && name.IndexOfAny((byte)'/', (byte)0) < 0;
}

/// <summary>One entry read by <see cref="DirentReader"/>; <see cref="Name"/> is a view into the buffer.</summary>
public readonly ref struct Dirent
{
    /// <summary>The inode number (d_ino).</summary>
    public readonly ulong Ino;
    /// <summary>The file type (d_type).</summary>
    public readonly DirentType Type;
    /// <summary>The name, without its NUL.</summary>
    public readonly ReadOnlySpan<byte> Name;

    /// <summary>An entry.</summary>
    public Dirent(ulong ino, DirentType type, ReadOnlySpan<byte> name) { Ino = ino; Type = type; Name = name; }
}

/// <summary>
/// Packs entries for a dir_readdir reply into a buffer (the span the server's dispatch
/// reserved). Never allocates; <see cref="TryAdd"/> returns false when the next entry does
/// not fit, and the server then stops and reports <see cref="Count"/> entries.
/// </summary>
public ref struct DirentWriter
{
    private readonly Span<byte> _buf;
    private int _pos;
    private int _count;

    /// <summary>A writer over <paramref name="buffer"/>.</summary>
    public DirentWriter(Span<byte> buffer) { _buf = buffer; _pos = 0; _count = 0; }

    /// <summary>Bytes written (the dir_readdir data length).</summary>
    public readonly int Length => _pos;
    /// <summary>Entries written (the dir_readdir amount).</summary>
    public readonly int Count => _count;

    /// <summary>
    /// Appends one entry, or returns false (writing nothing) if it does not fit.
    /// Throws <see cref="ArgumentException"/> for a name <see cref="DirentFormat.IsValidName"/>
    /// rejects: a server must check names it did not make (a corrupt disk) before adding them.
    /// </summary>
    public bool TryAdd(ulong ino, DirentType type, ReadOnlySpan<byte> name)
    {
        if (!DirentFormat.IsValidName(name)) ThrowBadName();
        int len = DirentFormat.RecordLength(name.Length);
        if (len > _buf.Length - _pos) return false;
        var e = _buf.Slice(_pos, len);
        BinaryPrimitives.WriteUInt64LittleEndian(e, ino);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)len);
        e[10] = (byte)type;
        e[11] = (byte)name.Length;
        name.CopyTo(e[DirentFormat.HeaderLength..]);
        e[(DirentFormat.HeaderLength + name.Length)..].Clear();
        _pos += len;
        _count++;
        return true;
    }

    private static void ThrowBadName() => throw new ArgumentException("A directory entry name is 1-255 bytes without '/' or NUL.", "name");
}

/// <summary>
/// Reads the entries of a dir_readdir reply. Built for hostile input: a malformed entry
/// (bad d_reclen or d_namlen) stops the reading and sets <see cref="Error"/>.
/// </summary>
public ref struct DirentReader
{
    private readonly ReadOnlySpan<byte> _buf;
    private int _pos;
    private bool _error;

    /// <summary>A reader over the packed entries in <paramref name="data"/>.</summary>
    public DirentReader(ReadOnlySpan<byte> data) { _buf = data; _pos = 0; _error = false; }

    /// <summary>True once a malformed entry was met.</summary>
    public readonly bool Error => _error;

    /// <summary>The next entry, or false at the end of the data (or on a malformed entry: see <see cref="Error"/>).</summary>
    public bool TryRead(out Dirent entry)
    {
        entry = default;
        if (_error || _pos >= _buf.Length) return false;
        var rest = _buf[_pos..];
        if (rest.Length < DirentFormat.HeaderLength + 2) { _error = true; return false; }
        ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(rest);
        int reclen = BinaryPrimitives.ReadUInt16LittleEndian(rest[8..]);
        int namlen = rest[11];
        if (namlen == 0 || reclen > rest.Length || reclen < DirentFormat.HeaderLength + namlen + 1 || (reclen & 7) != 0)
        {
            _error = true;
            return false;
        }
        var name = rest.Slice(DirentFormat.HeaderLength, namlen);
        if (name.IndexOfAny((byte)'/', (byte)0) >= 0) { _error = true; return false; }
        entry = new Dirent(ino, (DirentType)rest[10], name);
        _pos += reclen;
        return true;
    }
}
