using static Hurd.Fsx.Interop.Octal;
using Hurd.Fsx.Interop;

namespace Hurd.Fsx;

/// <summary>
/// Generates a reproducible random operation sequence from a seed (System.Random(seed); same seed, same
/// sequence, on any machine running the same build). Sizes are mostly small, with occasional large offsets
/// (sparse, up to ~300 MiB) and occasional big writes (up to 1 MiB).
/// </summary>
public sealed class FsxGenerator
{
    /// <summary>Number of logical fd slots (the same slot numbers on both sides).</summary>
    public const int Slots = 6;

    /// <summary>Largest single transfer (write, read, copy, fallocate) in bytes.</summary>
    public const int MaxTransfer = 1 << 20;

    /// <summary>Largest offset used for sparse files.</summary>
    public const long MaxSparseOffset = 300L << 20;

    private static readonly int[] DefaultWeights = BuildWeights();

    private readonly Random _rnd;
    private readonly int[] _cumulative;
    private readonly FsxOpKind[] _kinds;
    private int _openMask;
    private readonly bool _zeroRange;
    private readonly long _maxFileSize;
    private readonly int _maxXattrSize;
    private readonly Queue<FsxOp> _pending = new();

    /// <summary>Creates a generator for <paramref name="seed"/>; kinds in <paramref name="disabled"/> are never produced;
    /// with <paramref name="zeroRange"/> false, fallocate never uses FALLOC_FL_ZERO_RANGE (kernel tmpfs lacks it)
    /// and uses PUNCH_HOLE|KEEP_SIZE instead (the random stream is the same either way). Offsets and sizes at the edges
    /// of off_t above <paramref name="maxFileSize"/> (a filesystem's largest file, e.g. ext2's block-map reach) become
    /// values 2 MiB and a little below it; xattr values are cut to <paramref name="maxXattrSize"/> bytes (the random
    /// stream is the same either way).</summary>
    public FsxGenerator(int seed, IReadOnlyCollection<FsxOpKind>? disabled = null, bool zeroRange = true, long maxFileSize = long.MaxValue,
        int maxXattrSize = int.MaxValue)
    {
        _zeroRange = zeroRange;
        _maxFileSize = maxFileSize;
        _maxXattrSize = maxXattrSize;
        _rnd = new Random(seed);
        var kinds = new List<FsxOpKind>();
        var cum = new List<int>();
        int total = 0;
        for (int k = 0; k < DefaultWeights.Length; k++)
        {
            if (DefaultWeights[k] == 0 || (disabled != null && disabled.Contains((FsxOpKind)k))) continue;
            total += DefaultWeights[k];
            kinds.Add((FsxOpKind)k);
            cum.Add(total);
        }
        if (kinds.Count == 0) throw new ArgumentException("every operation kind is disabled", nameof(disabled));
        _kinds = [.. kinds];
        _cumulative = [.. cum];
    }

    private static int[] BuildWeights()
    {
        var w = new int[FsxOp.KindCount];
        void W(FsxOpKind k, int n) => w[(int)k] = n;
        W(FsxOpKind.Open, 12); W(FsxOpKind.Close, 4); W(FsxOpKind.Read, 6); W(FsxOpKind.Write, 8);
        W(FsxOpKind.Pread, 5); W(FsxOpKind.Pwrite, 8); W(FsxOpKind.Lseek, 4); W(FsxOpKind.Ftruncate, 4);
        W(FsxOpKind.Truncate, 3); W(FsxOpKind.Rename, 6); W(FsxOpKind.Link, 3); W(FsxOpKind.Unlink, 4);
        W(FsxOpKind.Mkdir, 4); W(FsxOpKind.Rmdir, 3); W(FsxOpKind.Chmod, 2); W(FsxOpKind.Fchmod, 1);
        W(FsxOpKind.Symlink, 2); W(FsxOpKind.Readlink, 2); W(FsxOpKind.Fsync, 1); W(FsxOpKind.Fdatasync, 1);
        W(FsxOpKind.Fallocate, 4); W(FsxOpKind.CopyFileRange, 3); W(FsxOpKind.MmapRead, 2); W(FsxOpKind.MmapWrite, 2);
        W(FsxOpKind.Stat, 4); W(FsxOpKind.Lstat, 2); W(FsxOpKind.Fstat, 3); W(FsxOpKind.Readdir, 3);
        W(FsxOpKind.Utimensat, 2); W(FsxOpKind.Setxattr, 2); W(FsxOpKind.Getxattr, 2); W(FsxOpKind.Listxattr, 1);
        W(FsxOpKind.Removexattr, 1); W(FsxOpKind.Verify, 2);
        W(FsxOpKind.Chown, 2); W(FsxOpKind.Mknod, 1);
        return w;
    }

    /// <summary>Generates <paramref name="count"/> operations.</summary>
    public List<FsxOp> Generate(int count)
    {
        var ops = new List<FsxOp>(count);
        // A prelude creates the directory skeleton, so most later paths resolve.
        foreach (var d in FsxNamespace.Dirs)
            if (ops.Count < count) ops.Add(new FsxOp { Kind = FsxOpKind.Mkdir, Path = d, Mode = O(755) });
        while (ops.Count < count) ops.Add(Next());
        return ops;
    }

    /// <summary>The next operation.</summary>
    public FsxOp Next()
    {
        if (_pending.Count > 0) return _pending.Dequeue();
        if (_rnd.Next(150) == 0)
        {
            // Repair burst: over a long run directory names tend to become files and file names directories,
            // which turns most later ops into ENOTDIR/EISDIR. These are ordinary, compared ops.
            var dir = FsxNamespace.Dirs[_rnd.Next(FsxNamespace.Dirs.Length)];
            var file = FsxNamespace.Files[_rnd.Next(FsxNamespace.Files.Length)];
            _pending.Enqueue(new FsxOp { Kind = FsxOpKind.Mkdir, Path = dir, Mode = O(755) });
            _pending.Enqueue(new FsxOp { Kind = FsxOpKind.Rmdir, Path = file });
            return new FsxOp { Kind = FsxOpKind.Unlink, Path = dir };
        }
        int r = _rnd.Next(_cumulative[^1]);
        int idx = Array.BinarySearch(_cumulative, r + 1);
        if (idx < 0) idx = ~idx;
        var op = new FsxOp { Kind = _kinds[idx] };
        switch (op.Kind)
        {
            case FsxOpKind.Open:
                op.Slot = FreeSlot();
                _openMask |= 1 << op.Slot;
                op.Path = _rnd.Next(20) == 0 ? DirPath() : FilePath();
                op.Flags = OpenFlags();
                op.Mode = Pick(O(644), O(600), O(444), O(755), O(640), 0, O(4755), O(2755));
                break;
            case FsxOpKind.Close:
                op.Slot = PickSlot();
                _openMask &= ~(1 << op.Slot);
                break;
            case FsxOpKind.Read:
                op.Slot = PickSlot(); op.Length = Len(); break;
            case FsxOpKind.Pread:
                op.Slot = PickSlot(); op.Length = Len(); op.Offset = Off(); break;
            case FsxOpKind.Write:
                op.Slot = PickSlot(); op.Length = Len(); op.Pattern = Pattern(); break;
            case FsxOpKind.Pwrite:
                op.Slot = PickSlot(); op.Length = Len(); op.Offset = Off(); op.Pattern = Pattern(); break;
            case FsxOpKind.Lseek:
                op.Slot = PickSlot();
                op.Flags = PickWeighted([30, 15, 15, 20, 20]);
                op.Offset = _rnd.Next(10) == 0 ? -_rnd.Next(1, 5000) : Off();
                break;
            case FsxOpKind.Ftruncate:
                op.Slot = PickSlot(); op.Length = TruncSize(); break;
            case FsxOpKind.Truncate:
                op.Path = FilePath(); op.Length = TruncSize(); break;
            case FsxOpKind.Rename:
                if (_rnd.Next(30) == 0) { op.Path = NodeName(); op.Path2 = NodeName(); }
                else if (_rnd.Next(4) == 0) { op.Path = DirPath(); op.Path2 = DirPath(); }
                else { op.Path = FilePath(); op.Path2 = FilePath(); }
                op.Flags = PickWeighted([75, 12, 12, 1]) switch { 0 => 0, 1 => (int)Libc.RENAME_NOREPLACE, 2 => (int)Libc.RENAME_EXCHANGE, _ => 3 };
                break;
            case FsxOpKind.Link:
                op.Path = FilePath(); op.Path2 = FilePath(); break;
            case FsxOpKind.Unlink:
                op.Path = _rnd.Next(10) == 0 ? NodeName() : FilePath(); break;
            case FsxOpKind.Readlink:
            case FsxOpKind.Listxattr:
                op.Path = FilePath(); break;
            case FsxOpKind.Stat:
            case FsxOpKind.Lstat:
                op.Path = _rnd.Next(10) == 0 ? NodeName() : AnyPath(); break;
            case FsxOpKind.Rmdir:
            case FsxOpKind.Readdir:
                op.Path = DirPath(); break;
            case FsxOpKind.Mkdir:
                op.Path = DirPath(); op.Mode = Pick(O(755), O(700), O(777), O(1777), O(2755), O(555)); break;
            case FsxOpKind.Chmod:
                // Never the root: a root without search permission would end an unprivileged run's usefulness.
                op.Path = FsxNamespace.Paths[1 + _rnd.Next(FsxNamespace.Paths.Length - 1)]; op.Mode = ChmodMode(); break;
            case FsxOpKind.Fchmod:
                op.Slot = PickSlot(); op.Mode = ChmodMode(); break;
            case FsxOpKind.Symlink:
                op.Path = _rnd.Next(3) != 0 ? FsxNamespace.LinkNames[_rnd.Next(FsxNamespace.LinkNames.Length)] : FilePath(); op.Path2 = FsxNamespace.Targets[_rnd.Next(FsxNamespace.Targets.Length)]; break;
            case FsxOpKind.Fsync:
            case FsxOpKind.Fdatasync:
            case FsxOpKind.Verify:
            case FsxOpKind.Fstat:
                op.Slot = PickSlot(); break;
            case FsxOpKind.Fallocate:
                op.Slot = PickSlot();
                op.Flags = PickWeighted([30, 20, 25, 3, 10, 10]) switch
                {
                    0 => 0,
                    1 => Libc.FALLOC_FL_KEEP_SIZE,
                    2 => Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE,
                    3 => Libc.FALLOC_FL_PUNCH_HOLE,
                    4 => Libc.FALLOC_FL_ZERO_RANGE,
                    _ => Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE,
                };
                if (!_zeroRange && (op.Flags & Libc.FALLOC_FL_ZERO_RANGE) != 0)
                    op.Flags = Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE;
                op.Offset = Off();
                op.Length = _rnd.Next(20) == 0 ? 0 : Len();
                break;
            case FsxOpKind.CopyFileRange:
                op.Slot = PickSlot(); op.Slot2 = PickSlot();
                op.Offset = _rnd.Next(3) == 0 ? -1 : Off();
                op.Offset2 = _rnd.Next(3) == 0 ? -1 : Off();
                op.Length = Len();
                break;
            case FsxOpKind.MmapRead:
                op.Slot = PickSlot(); op.Offset = _rnd.Next(1 << 17); op.Length = _rnd.Next(1 << 16); break;
            case FsxOpKind.MmapWrite:
                op.Slot = PickSlot(); op.Offset = _rnd.Next(1 << 17); op.Length = _rnd.Next(1 << 16); op.Pattern = Pattern(); break;
            case FsxOpKind.Utimensat:
                op.Path = AnyPath();
                op.Flags = _rnd.Next(10) == 0 ? Libc.AT_SYMLINK_NOFOLLOW : 0;
                (op.ASec, op.ANsec) = TimeSpec();
                (op.MSec, op.MNsec) = TimeSpec();
                break;
            case FsxOpKind.Setxattr:
                op.Path = AnyPath(); op.XName = XName();
                op.Length = Math.Min(_maxXattrSize, _rnd.Next(10) == 0 ? _rnd.Next(4000) : _rnd.Next(200));
                op.Pattern = Pattern();
                op.Flags = PickWeighted([70, 15, 15]);
                break;
            case FsxOpKind.Chown:
                op.Path = _rnd.Next(4) == 0 ? AnyPath() : FilePath();
                op.Uid = Pick(0, 65534, 1000, -1);
                op.Gid = Pick(0, 65534, 1000, -1);
                op.Flags = _rnd.Next(5) == 0 ? Libc.AT_SYMLINK_NOFOLLOW : 0;
                break;
            case FsxOpKind.Mknod:
            {
                int type = PickWeighted([35, 20, 15, 30]);
                int perm = Pick(O(644), O(600), O(666), O(4755));
                if (type == 3)
                {
                    op.Path = FilePath(); // regular files may go anywhere
                    op.Mode = Libc.S_IFREG | perm;
                }
                else
                {
                    op.Path = NodeName();
                    op.Mode = (type == 0 ? Libc.S_IFIFO : type == 1 ? Libc.S_IFSOCK : Libc.S_IFCHR) | perm;
                    if (type == 2) op.Offset = _rnd.Next(2) == 0 ? 0x103 : 0x105; // makedev(1,3) /dev/null, (1,5) /dev/zero
                }
                break;
            }
            case FsxOpKind.Getxattr:
            case FsxOpKind.Removexattr:
                op.Path = AnyPath(); op.XName = XName(); break;
        }
        return op;
    }

    private string AnyPath() =>
        _rnd.Next(40) == 0 ? FsxNamespace.Paths[0] : FsxNamespace.Paths[1 + _rnd.Next(FsxNamespace.Paths.Length - 1)];

    private string FilePath() =>
        _rnd.Next(10) == 0 ? AnyPath() : FsxNamespace.Files[_rnd.Next(FsxNamespace.Files.Length)];

    private string DirPath() =>
        _rnd.Next(10) == 0 ? AnyPath() : FsxNamespace.Dirs[_rnd.Next(FsxNamespace.Dirs.Length)];

    private string NodeName() => FsxNamespace.NodeNames[_rnd.Next(FsxNamespace.NodeNames.Length)];

    private string XName() => FsxNamespace.XattrNames[_rnd.Next(FsxNamespace.XattrNames.Length)];

    private byte PickSlot()
    {
        if (_openMask != 0 && _rnd.Next(8) != 0)
        {
            while (true)
            {
                int s = _rnd.Next(Slots);
                if ((_openMask & (1 << s)) != 0) return (byte)s;
            }
        }
        return (byte)_rnd.Next(Slots);
    }

    private byte FreeSlot()
    {
        int all = (1 << Slots) - 1;
        if (_openMask != all && _rnd.Next(4) != 0)
        {
            while (true)
            {
                int s = _rnd.Next(Slots);
                if ((_openMask & (1 << s)) == 0) return (byte)s;
            }
        }
        return (byte)_rnd.Next(Slots);
    }

    private int OpenFlags()
    {
        int f = PickWeighted([25, 25, 50]) switch { 0 => Libc.O_RDONLY, 1 => Libc.O_WRONLY, _ => Libc.O_RDWR };
        if (_rnd.Next(100) < 75) f |= Libc.O_CREAT;
        if (_rnd.Next(100) < 10) f |= Libc.O_EXCL;
        if (_rnd.Next(100) < 10) f |= Libc.O_TRUNC;
        if (_rnd.Next(100) < 15) f |= Libc.O_APPEND;
        if (_rnd.Next(100) < 4) f |= Libc.O_DIRECTORY;
        if (_rnd.Next(100) < 5) f |= Libc.O_NOFOLLOW;
        return f;
    }

    private int ChmodMode() => Pick(O(644), O(600), O(755), O(444), 0, O(4755), O(2755), O(1777), O(6755), O(777));

    private long Len()
    {
        int r = _rnd.Next(100);
        if (r < 45) return _rnd.Next(513);
        if (r < 75) return _rnd.Next(8193);
        if (r < 97) return _rnd.Next(65537);
        return _rnd.Next(MaxTransfer + 1);
    }

    private long Off()
    {
        int r = _rnd.Next(1000);
        if (r < 500) return _rnd.Next(8192);
        if (r < 850) return _rnd.Next(1 << 17);
        if (r < 970) return _rnd.Next(1 << 21);
        if (r < 996) return _rnd.NextInt64(MaxSparseOffset);
        return Huge();
    }

    /// <summary>Offsets and sizes at the edges of off_t: EFBIG/EINVAL territory, or a huge sparse file.</summary>
    private long Huge()
    {
        long v = _rnd.Next(5) switch
        {
            0 => 1L << 40,
            1 => 1L << 62,
            2 => long.MaxValue - _rnd.Next(4096),
            3 => (1L << 44) - _rnd.Next(4096),
            _ => -_rnd.Next(1, 4096),
        };
        return _maxFileSize != long.MaxValue && v > _maxFileSize - (2L << 20) ? _maxFileSize - (2L << 20) - (v & 4095) : v;
    }

    private long TruncSize() => _rnd.Next(6) == 0 ? 0 : _rnd.Next(100) == 0 ? Huge() : Off();

    private int Pattern() => _rnd.Next(FsxNamespace.PatternSize - MaxTransfer);

    private (long Sec, long Nsec) TimeSpec()
    {
        int r = _rnd.Next(100);
        long sec = 978_307_200 + _rnd.NextInt64(315_360_000); // 2001..2011: far in the past, so "explicit"
        if (r < 15) return (0, Libc.UTIME_NOW);
        if (r < 30) return (0, Libc.UTIME_OMIT);
        return (sec, _rnd.Next(1_000_000_000));
    }

    private int Pick(params ReadOnlySpan<int> values) => values[_rnd.Next(values.Length)];

    private int PickWeighted(ReadOnlySpan<int> weights)
    {
        int total = 0;
        foreach (var w in weights) total += w;
        int r = _rnd.Next(total);
        for (int i = 0; i < weights.Length; i++)
        {
            if (r < weights[i]) return i;
            r -= weights[i];
        }
        return weights.Length - 1;
    }
}
