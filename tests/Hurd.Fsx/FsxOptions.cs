namespace Hurd.Fsx;

/// <summary>How mtime/ctime are compared. Absolute times never are (the two sides run at different instants).</summary>
public enum FsxTimeCheck
{
    /// <summary>Times are not compared.</summary>
    Off,
    /// <summary>
    /// Default. Explicitly set mtimes (utimensat to a value in the past) must be equal. Otherwise, between two stat
    /// observations of the same inode, "changed" on one side and "unchanged" on the other is a mismatch, except when
    /// the unchanged side's timestamp lies in the same coarse clock tick as its previous observation (a change in the
    /// same tick would be invisible with coarse timestamps).
    /// </summary>
    Conservative,
    /// <summary>Like <see cref="Conservative"/> but every "unchanged" counts; valid when both sides stamp with
    /// fine-grained or multigrain timestamps (Linux 6.13+ tmpfs, a translator using a precise clock).</summary>
    Strict,
}

/// <summary>
/// A test hook applied to side B's outcome before comparison (to prove the comparison catches a broken side).
/// It may change <paramref name="ret"/> and <paramref name="errno"/>.
/// </summary>
public delegate void FsxResultHook(in FsxOp op, ref long ret, ref int errno);

/// <summary>Options for <see cref="Fsx.Run"/>.</summary>
public sealed class FsxOptions
{
    /// <summary>Side A's root directory. Created if missing; emptied at start and at end.</summary>
    public required string DirA { get; init; }
    /// <summary>Side B's root directory. Must not equal, contain, or lie inside <see cref="DirA"/>.</summary>
    public required string DirB { get; init; }
    /// <summary>The first seed.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Operations per seed.</summary>
    public int Ops { get; init; } = 10_000;
    /// <summary>Number of seeds (Seed, Seed+1, ...); each starts from empty roots.</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>Replay these operations (one sequence) instead of generating.</summary>
    public IReadOnlyList<FsxOp>? Replay { get; init; }
    /// <summary>On a mismatch, shrink the failing sequence (delta debugging) into <see cref="FsxResult.Minimized"/>.</summary>
    public bool Minimize { get; init; }
    /// <summary>Upper bound on re-runs during minimisation.</summary>
    public int MaxMinimizeTrials { get; init; } = 5000;
    /// <summary>Upper bound on the time spent minimising (the best sequence so far is returned).</summary>
    public TimeSpan MinimizeTimeBudget { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>If set, each sequence is written here (a replayable log) before it runs, so a crash leaves it behind;
    /// after a mismatch it holds the failing prefix, and LogFile.min the minimised sequence.</summary>
    public string? LogFile { get; init; }
    /// <summary>Run operations with this filesystem uid (setfsuid on the running thread); null: as the caller.</summary>
    public uint? Uid { get; init; }
    /// <summary>Run operations with this filesystem gid (setfsgid on the running thread); null: as the caller.</summary>
    public uint? Gid { get; init; }
    /// <summary>Compare st_blocks (only when both sides account blocks the same way).</summary>
    public bool CompareBlocks { get; init; } = true;
    /// <summary>Compare directory sizes (kernel tmpfs reports 20 bytes per entry).</summary>
    public bool CompareDirectorySize { get; init; } = true;
    /// <summary>How times are compared.</summary>
    public FsxTimeCheck Times { get; init; } = FsxTimeCheck.Conservative;
    /// <summary>Operation kinds never generated (e.g. fallocate where one side lacks it).</summary>
    public IReadOnlyCollection<FsxOpKind>? Disabled { get; init; }
    /// <summary>Generate fallocate with FALLOC_FL_ZERO_RANGE (kernel tmpfs answers EOPNOTSUPP; turn off when the
    /// other side implements it).</summary>
    public bool ZeroRange { get; init; } = true;
    /// <summary>The largest file size both sides can hold (default: off_t's); huge generated offsets and sizes stay
    /// below it (for filesystems such as ext2 whose limit is lower than the kernel tmpfs's).</summary>
    public long MaxFileSize { get; init; } = long.MaxValue;
    /// <summary>The largest xattr value generated (default 4000 bytes; ext2 keeps all of a file's xattrs in one block,
    /// so three 4000-byte values do not fit there).</summary>
    public int MaxXattrSize { get; init; } = int.MaxValue;
    /// <summary>Skip (run on neither side) lseek with SEEK_END, SEEK_DATA or SEEK_HOLE on an fd that is a directory on both
    /// sides. For FUSE mounts: the Linux FUSE kernel code answers lseek on a directory itself (fuse_dir_operations use
    /// generic_file_llseek on the directory's i_size: an offset, or ENXIO), never asking the server, where kernel tmpfs
    /// (dcache_dir_lseek) answers EINVAL; no FUSE server can match. SEEK_SET/SEEK_CUR on directories, and every whence
    /// on files, are still compared.</summary>
    public bool SkipDirectorySeek { get; init; }
    /// <summary>Skip (run on neither side) lseek SEEK_DATA/SEEK_HOLE on a file that an mmap_read has touched in this
    /// sequence. Kernel tmpfs allocates a page when a shared mapping faults on a hole (shmem_fault), so the hole turns
    /// into data; through FUSE an mmap fault is an ordinary READ, which the server cannot tell from read(2) and must
    /// not allocate for. Data, sizes and every other op on such files are still compared.</summary>
    public bool SkipSeekDataAfterMmapRead { get; init; }
    /// <summary>Skip (run on neither side) truncate(2) of a regular file to the size it has on both sides. The Hurd has no
    /// truncate by path: glibc, and our FUSE bridge, open the file for writing and call file_set_size, which is ftruncate
    /// and stamps mtime and ctime, where Linux's tmpfs leaves them unless the file holds pages (shmem_setattr) and ext4
    /// always leaves them. truncate(2) to any other size, ftruncate and O_TRUNC are still compared.</summary>
    public bool SkipSameSizeTruncate { get; init; }
    /// <summary>Skip (run on neither side) an open with O_CREAT of a name that is a symlink on both sides. The kernel
    /// answers it from its cache on a FUSE mount without default_permissions (no request reaches the server), and there it
    /// does not apply may_create_in_sticky: a symlink of another owner in a sticky world-writable directory gives ELOOP
    /// (O_NOFOLLOW) where tmpfs and ext4 give EACCES; no FUSE server can match. Opens of symlinks without O_CREAT, and
    /// every other op on them, are still compared.</summary>
    public bool SkipCreatOnSymlink { get; init; }
    /// <summary>Skip (run on neither side) an op on the path "." while the caller (<see cref="Uid"/>) may not search the
    /// root. The kernel checks search permission on the directory a walk starts from even for "." (tmpfs and ext4:
    /// EACCES), but on a FUSE mount without default_permissions it leaves permissions to the server, and "." never
    /// reaches the server: the op goes to the directory itself, which cannot tell it was reached through ".", so it
    /// checks what the op needs (ownership for utimensat, read for an open) and may allow it. No FUSE server can match.
    /// Ops on every other path are still compared (a name in an unsearchable directory is a LOOKUP the server refuses).</summary>
    public bool SkipDotWhenUnsearchable { get; init; }
    /// <summary>Count an op that fails on both sides with different errnos as agreeing, and tally it in
    /// <see cref="FsxResult.Statistics"/> ("errno differences"). For non-root runs through FUSE without
    /// default_permissions, where the kernel answers some calls from its cache in an order no server can change (a
    /// rename whose source is missing gives ENOENT before the search permission of the target's directory is asked),
    /// so that a long run goes on to find outcomes that matter: one side failing, different data.</summary>
    public bool LenientErrno { get; init; }
    /// <summary>After an op that may take search permission away from a directory (chmod, fchmod, chown, setxattr,
    /// removexattr of a directory) or a rename has succeeded on both sides, wait this long before the next op. A FUSE
    /// bridge without default_permissions (ours) expires the names the kernel cached in such a directory (or moved into
    /// one with a rename) with FUSE_NOTIFY_INVAL_ENTRY, which the kernel can only run once the request has released the
    /// directory's lock: a caller that walks on within microseconds of its own change can still pass. 0 (the default):
    /// no wait.</summary>
    public TimeSpan SettleAfterNameExpiry { get; init; }
    /// <summary>Leave the roots as they are after a mismatch (for inspection) instead of emptying them; when
    /// minimising, in the state the minimised sequence leaves.</summary>
    public bool KeepOnFailure { get; init; }
    /// <summary>Test hook on side B's outcomes; null in real runs.</summary>
    public FsxResultHook? HookB { get; init; }
    /// <summary>Test hook called after each op ran on side B, before the comparison, with B's root directory: a test
    /// can tamper with B's files directly (to prove data differences are caught). Null in real runs.</summary>
    public Action<FsxOp, string>? AfterOpB { get; init; }
    /// <summary>Progress lines (one per seed); null for silence.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>The first difference between the sides.</summary>
/// <param name="Index">The op's index in its sequence.</param>
/// <param name="Seed">The seed of the sequence (null for a replay).</param>
/// <param name="Op">The operation.</param>
/// <param name="A">Side A's outcome.</param>
/// <param name="B">Side B's outcome.</param>
/// <param name="Reason">What differs.</param>
public sealed record FsxMismatch(int Index, int? Seed, FsxOp Op, string A, string B, string Reason)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"mismatch at op #{Index}{(Seed is int s ? $" (seed {s})" : "")}: {Op}\n  A: {A}\n  B: {B}\n  {Reason}";
}

/// <summary>The outcome of <see cref="Fsx.Run"/>.</summary>
public sealed class FsxResult
{
    /// <summary>True when every operation agreed.</summary>
    public bool Passed => Mismatch == null;
    /// <summary>Operations executed on both sides (excluding minimisation re-runs).</summary>
    public long OpsRun { get; init; }
    /// <summary>Sequences run.</summary>
    public int SequencesRun { get; init; }
    /// <summary>Wall time of the runs (excluding minimisation).</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>Operations per second (each operation runs on both sides).</summary>
    public double OpsPerSecond => Elapsed.TotalSeconds > 0 ? OpsRun / Elapsed.TotalSeconds : 0;
    /// <summary>The first mismatch, or null.</summary>
    public FsxMismatch? Mismatch { get; init; }
    /// <summary>The failing sequence up to and including the mismatching op.</summary>
    public IReadOnlyList<FsxOp>? Failing { get; init; }
    /// <summary>The minimised failing sequence (still fails when replayed), when minimisation was asked for.</summary>
    public IReadOnlyList<FsxOp>? Minimized { get; init; }
    /// <summary>The mismatch the minimised sequence produces.</summary>
    public FsxMismatch? MinimizedMismatch { get; init; }
    /// <summary>Per-kind success/failure counts and the errno histogram (side A; minimisation re-runs included).</summary>
    public string Statistics { get; init; } = "";
    /// <summary>Re-runs spent minimising.</summary>
    public int MinimizeTrials { get; init; }
}
