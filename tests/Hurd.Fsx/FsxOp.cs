using System.Globalization;
using System.Text;
using Hurd.Fsx.Interop;

namespace Hurd.Fsx;

/// <summary>The operations the tester issues; each maps to one system call (mmap ops to a short sequence).</summary>
public enum FsxOpKind : byte
{
    /// <summary>open(Path, Flags, Mode) into fd slot Slot (an open fd in that slot is closed first).</summary>
    Open,
    /// <summary>close(fd Slot).</summary>
    Close,
    /// <summary>read(fd Slot, Length).</summary>
    Read,
    /// <summary>write(fd Slot, Length bytes of pattern Pattern).</summary>
    Write,
    /// <summary>pread(fd Slot, Length, Offset).</summary>
    Pread,
    /// <summary>pwrite(fd Slot, Length bytes of pattern Pattern, Offset).</summary>
    Pwrite,
    /// <summary>lseek(fd Slot, Offset, whence Flags) including SEEK_DATA and SEEK_HOLE.</summary>
    Lseek,
    /// <summary>ftruncate(fd Slot, Length).</summary>
    Ftruncate,
    /// <summary>truncate(Path, Length).</summary>
    Truncate,
    /// <summary>renameat2(Path, Path2, Flags) with RENAME_NOREPLACE / RENAME_EXCHANGE.</summary>
    Rename,
    /// <summary>link(Path, Path2).</summary>
    Link,
    /// <summary>unlink(Path).</summary>
    Unlink,
    /// <summary>mkdir(Path, Mode).</summary>
    Mkdir,
    /// <summary>rmdir(Path).</summary>
    Rmdir,
    /// <summary>chmod(Path, Mode).</summary>
    Chmod,
    /// <summary>fchmod(fd Slot, Mode).</summary>
    Fchmod,
    /// <summary>symlink(target Path2, Path).</summary>
    Symlink,
    /// <summary>readlink(Path).</summary>
    Readlink,
    /// <summary>fsync(fd Slot).</summary>
    Fsync,
    /// <summary>fdatasync(fd Slot).</summary>
    Fdatasync,
    /// <summary>fallocate(fd Slot, mode Flags, Offset, Length).</summary>
    Fallocate,
    /// <summary>copy_file_range(fd Slot at Offset, fd Slot2 at Offset2, Length); an offset of -1 passes NULL (use the fd offset).</summary>
    CopyFileRange,
    /// <summary>mmap(MAP_SHARED, PROT_READ) of fd Slot, copy Length bytes from Offset (clamped to the file size), munmap.</summary>
    MmapRead,
    /// <summary>mmap(MAP_SHARED, PROT_READ|PROT_WRITE) of fd Slot, store pattern bytes at Offset (clamped to the size), msync, munmap.</summary>
    MmapWrite,
    /// <summary>stat(Path) (statx, following symlinks).</summary>
    Stat,
    /// <summary>lstat(Path).</summary>
    Lstat,
    /// <summary>fstat(fd Slot).</summary>
    Fstat,
    /// <summary>open(Path, O_DIRECTORY) and getdents64 until the end; compares the set of names.</summary>
    Readdir,
    /// <summary>utimensat(Path, {ASec.ANsec, MSec.MNsec}, Flags) with UTIME_NOW / UTIME_OMIT in the nsec fields.</summary>
    Utimensat,
    /// <summary>setxattr(Path, XName, Length bytes of pattern Pattern, Flags).</summary>
    Setxattr,
    /// <summary>getxattr(Path, XName).</summary>
    Getxattr,
    /// <summary>listxattr(Path); compares the set of names.</summary>
    Listxattr,
    /// <summary>removexattr(Path, XName).</summary>
    Removexattr,
    /// <summary>Whole-content check of fd Slot: hashes the first 4 MiB and the last 1 MiB (pread); on a difference the
    /// first differing byte is located.</summary>
    Verify,
    /// <summary>fchownat(Path, Uid, Gid, Flags) (-1 leaves an id unchanged; AT_SYMLINK_NOFOLLOW is lchown).</summary>
    Chown,
    /// <summary>mknod(Path, Mode including the file type, device Offset): FIFOs, sockets, character devices and
    /// regular files. Non-regular nodes only ever live at <see cref="FsxNamespace.NodeNames"/>, which no open uses
    /// (opening a FIFO would block).</summary>
    Mknod,
}

/// <summary>
/// One logical operation, run identically on both sides. Paths are relative to each side's root and never
/// contain ".." or a leading '/'; symlink targets are likewise downward-only, so nothing can escape the roots.
/// Text form (one line, <see cref="ToString"/> / <see cref="Parse"/>): <c>kind key=value ...</c>; zero fields are omitted.
/// </summary>
public struct FsxOp
{
    /// <summary>The operation.</summary>
    public FsxOpKind Kind;
    /// <summary>The logical fd slot (the same slot on both sides).</summary>
    public byte Slot;
    /// <summary>The second fd slot (copy_file_range's output).</summary>
    public byte Slot2;
    /// <summary>The path, relative to the side's root ("." is the root).</summary>
    public string? Path;
    /// <summary>The second path (rename/link destination) or the symlink target.</summary>
    public string? Path2;
    /// <summary>The extended attribute name.</summary>
    public string? XName;
    /// <summary>Open flags, whence, rename flags, fallocate mode, xattr flags or utimensat flags.</summary>
    public int Flags;
    /// <summary>Permission bits for open/mkdir/chmod/fchmod.</summary>
    public int Mode;
    /// <summary>The file offset.</summary>
    public long Offset;
    /// <summary>The second offset (copy_file_range's output).</summary>
    public long Offset2;
    /// <summary>The length or size.</summary>
    public long Length;
    /// <summary>Where written data starts in the shared pattern buffer.</summary>
    public int Pattern;
    /// <summary>chown's uid (-1: unchanged).</summary>
    public int Uid;
    /// <summary>chown's gid (-1: unchanged).</summary>
    public int Gid;
    /// <summary>utimensat atime seconds.</summary>
    public long ASec;
    /// <summary>utimensat atime nanoseconds, or UTIME_NOW / UTIME_OMIT.</summary>
    public long ANsec;
    /// <summary>utimensat mtime seconds.</summary>
    public long MSec;
    /// <summary>utimensat mtime nanoseconds, or UTIME_NOW / UTIME_OMIT.</summary>
    public long MNsec;

    private static readonly string[] KindNames =
    [
        "open", "close", "read", "write", "pread", "pwrite", "lseek", "ftruncate", "truncate", "rename", "link",
        "unlink", "mkdir", "rmdir", "chmod", "fchmod", "symlink", "readlink", "fsync", "fdatasync", "fallocate",
        "copy_file_range", "mmap_read", "mmap_write", "stat", "lstat", "fstat", "readdir", "utimensat", "setxattr",
        "getxattr", "listxattr", "removexattr", "verify", "chown", "mknod",
    ];

    /// <summary>The log name of a kind ("copy_file_range").</summary>
    public static string KindName(FsxOpKind k) => KindNames[(int)k];

    /// <summary>Number of kinds.</summary>
    public static int KindCount => KindNames.Length;

    /// <summary>Parses a log name ("mmap_write") to a kind.</summary>
    public static bool TryParseKind(string name, out FsxOpKind kind)
    {
        int i = Array.IndexOf(KindNames, name);
        kind = (FsxOpKind)Math.Max(i, 0);
        return i >= 0;
    }

    private static readonly (int Bit, string Name)[] OpenFlagNames =
    [
        (Libc.O_CREAT, "O_CREAT"), (Libc.O_EXCL, "O_EXCL"), (Libc.O_TRUNC, "O_TRUNC"), (Libc.O_APPEND, "O_APPEND"),
        (Libc.O_DIRECTORY, "O_DIRECTORY"), (Libc.O_NOFOLLOW, "O_NOFOLLOW"), (Libc.O_NONBLOCK, "O_NONBLOCK"),
        (Libc.O_CLOEXEC, "O_CLOEXEC"), (Libc.O_NOCTTY, "O_NOCTTY"),
    ];

    private static (int Bit, string Name)[] FlagTable(FsxOpKind k) => k switch
    {
        FsxOpKind.Open => OpenFlagNames,
        FsxOpKind.Rename => [((int)Libc.RENAME_NOREPLACE, "RENAME_NOREPLACE"), ((int)Libc.RENAME_EXCHANGE, "RENAME_EXCHANGE")],
        FsxOpKind.Fallocate => [(Libc.FALLOC_FL_KEEP_SIZE, "KEEP_SIZE"), (Libc.FALLOC_FL_PUNCH_HOLE, "PUNCH_HOLE"), (Libc.FALLOC_FL_ZERO_RANGE, "ZERO_RANGE")],
        FsxOpKind.Setxattr => [(Libc.XATTR_CREATE, "XATTR_CREATE"), (Libc.XATTR_REPLACE, "XATTR_REPLACE")],
        FsxOpKind.Utimensat or FsxOpKind.Chown => [(Libc.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW")],
        _ => [],
    };

    private static readonly string[] Whences = ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"];

    private readonly string FormatFlags()
    {
        if (Kind == FsxOpKind.Lseek)
            return Flags >= 0 && Flags < Whences.Length ? Whences[Flags] : "0x" + Flags.ToString("x", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        int rest = Flags;
        if (Kind == FsxOpKind.Open)
        {
            sb.Append((Flags & Libc.O_ACCMODE) switch { Libc.O_RDONLY => "O_RDONLY", Libc.O_WRONLY => "O_WRONLY", Libc.O_RDWR => "O_RDWR", _ => "O_ACCMODE" });
            rest &= ~Libc.O_ACCMODE;
        }
        foreach (var (bit, name) in FlagTable(Kind))
        {
            if ((rest & bit) != bit) continue;
            if (sb.Length > 0) sb.Append('|');
            sb.Append(name);
            rest &= ~bit;
        }
        if (rest != 0)
        {
            if (sb.Length > 0) sb.Append('|');
            sb.Append("0x").Append(rest.ToString("x", CultureInfo.InvariantCulture));
        }
        return sb.Length == 0 ? "0" : sb.ToString();
    }

    private static int ParseFlags(FsxOpKind kind, string s)
    {
        if (kind == FsxOpKind.Lseek)
        {
            int w = Array.IndexOf(Whences, s);
            if (w >= 0) return w;
        }
        int flags = 0;
        foreach (var part in s.Split('|'))
        {
            if (part == "O_RDONLY") continue;
            if (part == "O_WRONLY") { flags |= Libc.O_WRONLY; continue; }
            if (part == "O_RDWR") { flags |= Libc.O_RDWR; continue; }
            if (part == "O_ACCMODE") { flags |= Libc.O_ACCMODE; continue; }
            bool found = false;
            foreach (var (bit, name) in FlagTable(kind))
                if (name == part) { flags |= bit; found = true; break; }
            if (found) continue;
            flags |= part.StartsWith("0x", StringComparison.Ordinal)
                ? int.Parse(part.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : int.Parse(part, CultureInfo.InvariantCulture);
        }
        return flags;
    }

    private static string Nsec(long ns) => ns switch
    {
        Libc.UTIME_NOW => "UTIME_NOW",
        Libc.UTIME_OMIT => "UTIME_OMIT",
        _ => ns.ToString(CultureInfo.InvariantCulture),
    };

    private static long ParseNsec(string s) => s switch
    {
        "UTIME_NOW" => Libc.UTIME_NOW,
        "UTIME_OMIT" => Libc.UTIME_OMIT,
        _ => long.Parse(s, CultureInfo.InvariantCulture),
    };

    /// <summary>The one-line text form, e.g. <c>open slot=2 path=d0/f1 flags=O_RDWR|O_CREAT mode=0644</c>.</summary>
    public override readonly string ToString()
    {
        var sb = new StringBuilder(KindName(Kind));
        var ci = CultureInfo.InvariantCulture;
        if (Slot != 0) sb.Append(" slot=").Append(Slot);
        if (Slot2 != 0) sb.Append(" slot2=").Append(Slot2);
        if (Path != null) sb.Append(" path=").Append(Path);
        if (Path2 != null) sb.Append(Kind == FsxOpKind.Symlink ? " target=" : " path2=").Append(Path2);
        if (XName != null) sb.Append(" xname=").Append(XName);
        if (Flags != 0) sb.Append(" flags=").Append(FormatFlags());
        if (Mode != 0) sb.Append(" mode=0").Append(Convert.ToString(Mode, 8));
        if (Offset != 0) sb.Append(" off=").Append(Offset.ToString(ci));
        if (Offset2 != 0) sb.Append(" off2=").Append(Offset2.ToString(ci));
        if (Length != 0) sb.Append(" len=").Append(Length.ToString(ci));
        if (Pattern != 0) sb.Append(" pat=").Append(Pattern.ToString(ci));
        if (Uid != 0) sb.Append(" uid=").Append(Uid.ToString(ci));
        if (Gid != 0) sb.Append(" gid=").Append(Gid.ToString(ci));
        if (Kind == FsxOpKind.Utimensat)
        {
            sb.Append(" atime=").Append(ASec.ToString(ci)).Append('.').Append(Nsec(ANsec));
            sb.Append(" mtime=").Append(MSec.ToString(ci)).Append('.').Append(Nsec(MNsec));
        }
        return sb.ToString();
    }

    /// <summary>Parses one line written by <see cref="ToString"/>. Throws <see cref="FormatException"/> on bad input
    /// (replay files are input, not a hot path), including paths that are absolute or contain "..".</summary>
    public static FsxOp Parse(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !TryParseKind(parts[0], out var kind))
            throw new FormatException($"unknown operation in '{line}'");
        var op = new FsxOp { Kind = kind };
        var ci = CultureInfo.InvariantCulture;
        for (int i = 1; i < parts.Length; i++)
        {
            int eq = parts[i].IndexOf('=');
            if (eq <= 0) throw new FormatException($"expected key=value, got '{parts[i]}' in '{line}'");
            string k = parts[i][..eq], v = parts[i][(eq + 1)..];
            switch (k)
            {
                case "slot": op.Slot = ParseSlot(v); break;
                case "slot2": op.Slot2 = ParseSlot(v); break;
                case "path": op.Path = FsxNamespace.Checked(v); break;
                case "path2": case "target": op.Path2 = FsxNamespace.Checked(v); break;
                case "xname": op.XName = v; break;
                case "flags": op.Flags = ParseFlags(kind, v); break;
                case "mode": op.Mode = Convert.ToInt32(v, 8); break;
                case "off": op.Offset = long.Parse(v, ci); break;
                case "off2": op.Offset2 = long.Parse(v, ci); break;
                case "len": op.Length = long.Parse(v, ci); break;
                case "pat": op.Pattern = int.Parse(v, ci); break;
                case "uid": op.Uid = int.Parse(v, ci); break;
                case "gid": op.Gid = int.Parse(v, ci); break;
                case "atime": case "mtime":
                    int dot = v.IndexOf('.');
                    if (dot <= 0) throw new FormatException($"expected SEC.NSEC, got '{v}'");
                    long sec = long.Parse(v.AsSpan(0, dot), ci), ns = ParseNsec(v[(dot + 1)..]);
                    if (k == "atime") { op.ASec = sec; op.ANsec = ns; } else { op.MSec = sec; op.MNsec = ns; }
                    break;
                default: throw new FormatException($"unknown key '{k}' in '{line}'");
            }
        }
        return op;
    }

    private static byte ParseSlot(string v)
    {
        int slot = int.Parse(v, CultureInfo.InvariantCulture);
        if (slot < 0 || slot >= FsxGenerator.Slots) throw new FormatException($"slot {slot} out of range 0..{FsxGenerator.Slots - 1}");
        return (byte)slot;
    }

    /// <summary>Writes ops as a replayable log (one op a line; '#' lines are comments).</summary>
    public static void WriteLog(string file, IEnumerable<FsxOp> ops, string? header = null)
    {
        using var w = new StreamWriter(file);
        if (header != null) w.WriteLine("# " + header);
        foreach (var op in ops) w.WriteLine(op.ToString());
    }

    /// <summary>Reads a log written by <see cref="WriteLog"/>.</summary>
    public static List<FsxOp> ReadLog(string file)
    {
        var ops = new List<FsxOp>();
        foreach (var raw in File.ReadLines(file))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            ops.Add(Parse(line));
        }
        return ops;
    }
}
