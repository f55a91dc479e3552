using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Hurd.Fsx.Interop;

namespace Hurd.Fsx;

/// <summary>
/// One side of the comparison: a root directory, its logical fd slots, native copies of every path, and
/// the outcome of the last operation. Executing an op allocates nothing except for readdir/listxattr names
/// and the first use of a path. Not thread-safe; one side per run.
/// </summary>
internal sealed unsafe class FsxSide : IDisposable
{
    private const int BufferSize = FsxGenerator.MaxTransfer + 4096;
    private const int SmallBufferSize = 1 << 16;

    /// <summary>The root directory (absolute, canonical).</summary>
    public readonly string Root;
    private readonly byte[] _rootUtf8;
    private readonly Dictionary<string, nint> _abs = new(64, StringComparer.Ordinal);
    private readonly Dictionary<string, nint> _raw = new(64, StringComparer.Ordinal);
    private readonly int[] _fds = new int[FsxGenerator.Slots];
    private readonly byte* _buf;
    private readonly byte* _small;
    private readonly Dictionary<ulong, TimeObservation> _times = new();

    /// <summary>The last op's return value (an fd is normalised to 0: fd numbers may differ between sides).</summary>
    public long Ret;
    /// <summary>errno when <see cref="Ret"/> is -1, else 0.</summary>
    public int Errno;
    /// <summary>Bytes of data in <see cref="Data"/> (read, pread, mmap_read, readlink, getxattr).</summary>
    public int DataLength;
    /// <summary>Whether <see cref="Stat"/> holds the last stat/lstat/fstat result.</summary>
    public bool HasStat;
    /// <summary>The last stat result.</summary>
    public Libc.StatX Stat;
    /// <summary>Whether <see cref="Previous"/> holds an earlier observation of the same inode.</summary>
    public bool HasPrevious;
    /// <summary>The previous stat observation of the inode <see cref="Stat"/> describes.</summary>
    public TimeObservation Previous;
    /// <summary>Sorted names from the last readdir or listxattr.</summary>
    public readonly List<string> Names = new();

    /// <summary>The last read data.</summary>
    public ReadOnlySpan<byte> Data => new(_buf, DataLength);

    /// <summary>What a stat call saw, and when (CLOCK_REALTIME_COARSE just after), for change-or-not relations.</summary>
    public struct TimeObservation
    {
        /// <summary>mtime and ctime as seen.</summary>
        public Libc.TimeStampX Mtime, Ctime;
        /// <summary>The coarse clock right after the observation.</summary>
        public Libc.TimeSpec ObservedAt;
    }

    public FsxSide(string root)
    {
        Root = root;
        _rootUtf8 = Encoding.UTF8.GetBytes(root);
        Array.Fill(_fds, -1);
        _buf = (byte*)NativeMemory.AlignedAlloc(BufferSize, 4096);
        _small = (byte*)NativeMemory.AlignedAlloc(SmallBufferSize, 4096);
    }

    /// <summary>NUL-terminated absolute path for a relative one (cached for the side's lifetime).</summary>
    public byte* Abs(string rel)
    {
        if (_abs.TryGetValue(rel, out var p)) return (byte*)p;
        // "." becomes ROOT/. (not ROOT): rmdir/rename then see a "." component (EINVAL/EBUSY) on every kind of root,
        // instead of ENOTEMPTY on a plain directory and EBUSY on a mount point.
        var s = Root + "/" + rel;
        p = ToNative(s);
        _abs[rel] = p;
        return (byte*)p;
    }

    private byte* RawString(string s)
    {
        if (_raw.TryGetValue(s, out var p)) return (byte*)p;
        p = ToNative(s);
        _raw[s] = p;
        return (byte*)p;
    }

    private static nint ToNative(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return (nint)p;
    }

    /// <summary>Closes every slot and forgets time observations (between sequences).</summary>
    public void Reset()
    {
        CloseAll();
        _times.Clear();
    }

    /// <summary>Closes every open slot.</summary>
    public void CloseAll()
    {
        for (int i = 0; i < _fds.Length; i++)
            if (_fds[i] >= 0) { Libc.close(_fds[i]); _fds[i] = -1; }
    }

    private void Result(long ret)
    {
        Ret = ret;
        Errno = ret == -1 ? Libc.Errno : 0;
    }

    /// <summary>Runs <paramref name="op"/> on this side and records the outcome in the public fields.</summary>
    public void Execute(in FsxOp op)
    {
        DataLength = 0;
        HasStat = false;
        HasPrevious = false;
        int fd = _fds[op.Slot % FsxGenerator.Slots];
        byte* pattern = PatternPointer(op.Pattern, op.Length);
        switch (op.Kind)
        {
            case FsxOpKind.Open:
            {
                if (fd >= 0) { Libc.close(fd); _fds[op.Slot] = -1; }
                int nfd = Libc.open(Abs(op.Path!), op.Flags, (uint)op.Mode);
                Result(nfd < 0 ? -1 : 0);
                if (nfd >= 0) _fds[op.Slot] = nfd;
                break;
            }
            case FsxOpKind.Close:
                Result(Libc.close(fd));
                _fds[op.Slot] = -1;
                break;
            case FsxOpKind.Read:
                Result(Libc.read(fd, _buf, (nint)Math.Min(op.Length, FsxGenerator.MaxTransfer)));
                if (Ret > 0) DataLength = (int)Ret;
                break;
            case FsxOpKind.Pread:
                Result(Libc.pread(fd, _buf, (nint)Math.Min(op.Length, FsxGenerator.MaxTransfer), op.Offset));
                if (Ret > 0) DataLength = (int)Ret;
                break;
            case FsxOpKind.Write:
                Result(Libc.write(fd, pattern, (nint)Math.Min(op.Length, FsxGenerator.MaxTransfer)));
                break;
            case FsxOpKind.Pwrite:
                Result(Libc.pwrite(fd, pattern, (nint)Math.Min(op.Length, FsxGenerator.MaxTransfer), op.Offset));
                break;
            case FsxOpKind.Lseek:
                Result(Libc.lseek(fd, op.Offset, op.Flags));
                break;
            case FsxOpKind.Ftruncate:
                Result(Libc.ftruncate(fd, op.Length));
                break;
            case FsxOpKind.Truncate:
                Result(Libc.truncate(Abs(op.Path!), op.Length));
                break;
            case FsxOpKind.Rename:
                Result(Libc.renameat2(Libc.AT_FDCWD, Abs(op.Path!), Libc.AT_FDCWD, Abs(op.Path2!), (uint)op.Flags));
                break;
            case FsxOpKind.Link:
                Result(Libc.link(Abs(op.Path!), Abs(op.Path2!)));
                break;
            case FsxOpKind.Unlink:
                Result(Libc.unlink(Abs(op.Path!)));
                break;
            case FsxOpKind.Mkdir:
                Result(Libc.mkdir(Abs(op.Path!), (uint)op.Mode));
                break;
            case FsxOpKind.Rmdir:
                Result(Libc.rmdir(Abs(op.Path!)));
                break;
            case FsxOpKind.Chmod:
                Result(Libc.chmod(Abs(op.Path!), (uint)op.Mode));
                break;
            case FsxOpKind.Fchmod:
                Result(Libc.fchmod(fd, (uint)op.Mode));
                break;
            case FsxOpKind.Symlink:
                Result(Libc.symlink(RawString(op.Path2!), Abs(op.Path!)));
                break;
            case FsxOpKind.Readlink:
                Result(Libc.readlink(Abs(op.Path!), _buf, 4096));
                if (Ret > 0) DataLength = (int)Ret;
                break;
            case FsxOpKind.Fsync:
                Result(Libc.fsync(fd));
                break;
            case FsxOpKind.Fdatasync:
                Result(Libc.fdatasync(fd));
                break;
            case FsxOpKind.Fallocate:
                Result(Libc.fallocate(fd, op.Flags, op.Offset, Math.Min(op.Length, FsxGenerator.MaxTransfer)));
                break;
            case FsxOpKind.CopyFileRange:
            {
                long offIn = op.Offset, offOut = op.Offset2;
                int fdOut = _fds[op.Slot2 % FsxGenerator.Slots];
                Result(Libc.copy_file_range(fd, op.Offset < 0 ? null : &offIn, fdOut, op.Offset2 < 0 ? null : &offOut,
                    (nint)Math.Min(op.Length, FsxGenerator.MaxTransfer), 0));
                break;
            }
            case FsxOpKind.MmapRead:
            case FsxOpKind.MmapWrite:
                Mmap(op, fd, pattern);
                break;
            case FsxOpKind.Stat:
            case FsxOpKind.Lstat:
            case FsxOpKind.Fstat:
            {
                Libc.StatX st;
                int r = op.Kind == FsxOpKind.Fstat
                    ? Libc.statx(fd, RawString(""), Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &st)
                    : Libc.statx(Libc.AT_FDCWD, Abs(op.Path!), op.Kind == FsxOpKind.Lstat ? Libc.AT_SYMLINK_NOFOLLOW : 0,
                        Libc.STATX_BASIC_STATS, &st);
                Result(r);
                if (r == 0) Observe(st);
                break;
            }
            case FsxOpKind.Readdir:
                Readdir(op);
                break;
            case FsxOpKind.Utimensat:
            {
                var ts = stackalloc Libc.TimeSpec[2];
                ts[0] = new Libc.TimeSpec { Sec = op.ASec, Nsec = op.ANsec };
                ts[1] = new Libc.TimeSpec { Sec = op.MSec, Nsec = op.MNsec };
                Result(Libc.utimensat(Libc.AT_FDCWD, Abs(op.Path!), ts, op.Flags));
                break;
            }
            case FsxOpKind.Setxattr:
                Result(Libc.setxattr(Abs(op.Path!), RawString(op.XName!), pattern, (nint)Math.Min(op.Length, SmallBufferSize), op.Flags));
                break;
            case FsxOpKind.Getxattr:
                Result(Libc.getxattr(Abs(op.Path!), RawString(op.XName!), _buf, SmallBufferSize));
                if (Ret > 0) DataLength = (int)Ret;
                break;
            case FsxOpKind.Listxattr:
                Result(Libc.listxattr(Abs(op.Path!), _small, SmallBufferSize));
                Names.Clear();
                if (Ret > 0)
                {
                    var list = new ReadOnlySpan<byte>(_small, (int)Ret);
                    while (list.Length > 0)
                    {
                        int z = list.IndexOf((byte)0);
                        if (z < 0) z = list.Length;
                        Names.Add(Encoding.UTF8.GetString(list[..z]));
                        list = z + 1 <= list.Length ? list[(z + 1)..] : default;
                    }
                    Names.Sort(StringComparer.Ordinal);
                }
                break;
            case FsxOpKind.Removexattr:
                Result(Libc.removexattr(Abs(op.Path!), RawString(op.XName!)));
                break;
            case FsxOpKind.Verify:
                Verify(fd);
                break;
            case FsxOpKind.Mknod:
                Result(Libc.mknod(Abs(op.Path!), (uint)op.Mode, (ulong)op.Offset));
                break;
            case FsxOpKind.Chown:
                Result(Libc.fchownat(Libc.AT_FDCWD, Abs(op.Path!), (uint)op.Uid, (uint)op.Gid, op.Flags));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "unknown operation");
        }
    }

    private static byte* PatternPointer(int pattern, long length)
    {
        // Pinned array: the pointer stays valid. Clamp so a hand-edited log cannot read past the end.
        long max = FsxNamespace.PatternSize - Math.Min(length, FsxGenerator.MaxTransfer);
        long p = Math.Clamp(pattern, 0, Math.Max(0, max));
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(FsxNamespace.PatternBuffer)) + p;
    }

    private void Observe(in Libc.StatX st)
    {
        Stat = st;
        HasStat = true;
        if (_times.TryGetValue(st.Ino, out Previous)) HasPrevious = true;
        Libc.TimeSpec now;
        Libc.clock_gettime(Libc.CLOCK_REALTIME_COARSE, &now);
        _times[st.Ino] = new TimeObservation { Mtime = st.Mtime, Ctime = st.Ctime, ObservedAt = now };
    }

    private void Mmap(in FsxOp op, int fd, byte* pattern)
    {
        Libc.StatX st;
        if (Libc.statx(fd, RawString(""), Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &st) != 0) { Result(-1); return; }
        bool write = op.Kind == FsxOpKind.MmapWrite;
        if ((st.Mode & Libc.S_IFMT) == Libc.S_IFDIR)
        {
            // A directory's size is the filesystem's own (kernel tmpfs counts entries, ext2 whole blocks), so whether
            // its bytes "reach" the offset must not decide the result: map its first page, which the kernel refuses on
            // both sides alike (EACCES for a shared writable map of a read-only descriptor, else ENODEV).
            void* dm = Libc.mmap(null, 4096, write ? Libc.PROT_READ | Libc.PROT_WRITE : Libc.PROT_READ, Libc.MAP_SHARED, fd, 0);
            if (dm == (void*)-1) { Result(-1); return; }
            Libc.munmap(dm, 4096);
            Result(0);
            return;
        }
        // Only touch bytes below EOF: anything past the last page would raise SIGBUS and kill the tester.
        long size = (long)st.Size;
        long count = Math.Min(Math.Min(op.Length, FsxGenerator.MaxTransfer), size - op.Offset);
        if (op.Offset < 0 || count <= 0) { Result(0); return; }
        long pageOff = op.Offset & ~4095L;
        nint mapLen = (nint)(op.Offset - pageOff + count);
        void* map = Libc.mmap(null, mapLen, write ? Libc.PROT_READ | Libc.PROT_WRITE : Libc.PROT_READ, Libc.MAP_SHARED, fd, pageOff);
        if (map == (void*)-1) { Result(-1); return; }
        byte* at = (byte*)map + (op.Offset - pageOff);
        if (write)
        {
            Libc.memcpy(at, pattern, (nint)count);
            if (Libc.msync(map, mapLen, Libc.MS_SYNC) != 0) { Result(-1); Libc.munmap(map, mapLen); return; }
        }
        else
        {
            Libc.memcpy(_buf, at, (nint)count);
            DataLength = (int)count;
        }
        Libc.munmap(map, mapLen);
        Result(count);
    }

    /// <summary>The content hash from the last verify.</summary>
    public ulong Hash;

    /// <summary>The regions verify covers for a file of <paramref name="size"/> bytes: [0, 4 MiB) and the last 1 MiB.</summary>
    public static (long Start, long End)[] VerifyRegions(long size)
    {
        const long Head = 4 << 20, Tail = 1 << 20;
        if (size <= Head + Tail) return [(0, size)];
        return [(0, Head), (size - Tail, size)];
    }

    private void Verify(int fd)
    {
        Libc.StatX st;
        if (Libc.statx(fd, RawString(""), Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &st) != 0) { Result(-1); return; }
        ulong h = 14695981039346656037UL;
        long total = 0;
        foreach (var (start, end) in VerifyRegions((long)st.Size))
        {
            for (long off = start; off < end;)
            {
                nint n = Libc.pread(fd, _buf, (nint)Math.Min(FsxGenerator.MaxTransfer, end - off), off);
                if (n < 0) { Result(-1); return; }
                if (n == 0) break;
                h = HashBytes(h, new ReadOnlySpan<byte>(_buf, (int)n));
                off += n;
                total += n;
            }
        }
        Hash = h;
        Result(total);
    }

    private static ulong HashBytes(ulong h, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var w in words) h = (h ^ w) * 0x9E3779B97F4A7C15UL ^ ((h ^ w) >> 29);
        foreach (var b in data[(words.Length * 8)..]) h = (h ^ b) * 1099511628211UL;
        return h;
    }

    /// <summary>True when <paramref name="slot"/> holds an open directory.</summary>
    public bool SlotIsDirectory(int slot)
    {
        Libc.StatX st;
        int fd = _fds[slot % FsxGenerator.Slots];
        return fd >= 0 && Libc.statx(fd, RawString(""), Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &st) == 0
            && (st.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
    }

    /// <summary>True when <paramref name="path"/> names a directory (symlinks followed).</summary>
    public bool IsDirectory(string path)
    {
        Libc.StatX st;
        return Libc.statx(Libc.AT_FDCWD, Abs(path), 0, Libc.STATX_BASIC_STATS, &st) == 0
            && (st.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
    }

    /// <summary>True when <paramref name="path"/> names a symlink (not followed).</summary>
    public bool IsSymlink(string path)
    {
        Libc.StatX st;
        return Libc.statx(Libc.AT_FDCWD, Abs(path), Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &st) == 0
            && (st.Mode & Libc.S_IFMT) == Libc.S_IFLNK;
    }

    /// <summary>True when <paramref name="uid"/> (group <paramref name="gid"/>, not root) may not search the run's root
    /// directory by its mode bits (stat as the caller: the root's parent is searchable).</summary>
    public bool RootUnsearchable(uint uid, uint gid)
    {
        if (uid == 0) return false;
        Libc.StatX st;
        if (Libc.statx(Libc.AT_FDCWD, RawString(Root), 0, Libc.STATX_BASIC_STATS, &st) != 0) return false;
        uint x = st.Uid == uid ? 0x40u : st.Gid == gid ? 0x8u : 0x1u;
        return (st.Mode & x) == 0;
    }

    /// <summary>The inode number of the regular file at <paramref name="path"/> (symlinks followed) if its size is
    /// <paramref name="size"/>, else 0.</summary>
    public ulong InodeIfSize(string path, long size)
    {
        Libc.StatX st;
        return Libc.statx(Libc.AT_FDCWD, Abs(path), 0, Libc.STATX_BASIC_STATS, &st) == 0
            && (st.Mode & Libc.S_IFMT) == Libc.S_IFREG && (long)st.Size == size ? st.Ino : 0;
    }

    /// <summary>The inode number of the file open in <paramref name="slot"/> (0 when none).</summary>
    public ulong SlotInode(int slot)
    {
        Libc.StatX st;
        int fd = _fds[slot % FsxGenerator.Slots];
        return fd >= 0 && Libc.statx(fd, RawString(""), Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &st) == 0 ? st.Ino : 0;
    }

    /// <summary>pread into this side's buffer (for locating a verify difference); returns bytes read or -1.</summary>
    public nint PreadSlot(int slot, long offset, int count, out ReadOnlySpan<byte> data)
    {
        nint n = Libc.pread(_fds[slot % FsxGenerator.Slots], _buf, Math.Min(count, FsxGenerator.MaxTransfer), offset);
        data = n > 0 ? new ReadOnlySpan<byte>(_buf, (int)n) : default;
        return n;
    }

    private void Readdir(in FsxOp op)
    {
        Names.Clear();
        int dfd = Libc.open(Abs(op.Path!), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (dfd < 0) { Result(-1); return; }
        while (true)
        {
            nint n = Libc.getdents64(dfd, _small, SmallBufferSize);
            if (n < 0) { Result(-1); Libc.close(dfd); return; }
            if (n == 0) break;
            for (nint pos = 0; pos < n;)
            {
                byte* ent = _small + pos;
                ushort reclen = *(ushort*)(ent + 16);
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(ent + 19);
                Names.Add(Encoding.UTF8.GetString(name));
                pos += reclen;
            }
        }
        Libc.close(dfd);
        Names.Sort(StringComparer.Ordinal);
        Result(Names.Count);
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CloseAll();
        foreach (var p in _abs.Values) NativeMemory.Free((void*)p);
        foreach (var p in _raw.Values) NativeMemory.Free((void*)p);
        _abs.Clear();
        _raw.Clear();
        NativeMemory.AlignedFree(_buf);
        NativeMemory.AlignedFree(_small);
    }
}
