using static Hurd.Fsx.Interop.Octal;
using System.Diagnostics;
using Hurd.Fsx.Interop;

namespace Hurd.Fsx;

/// <summary>
/// The differential filesystem tester: runs the same random operation sequence on two directories, one op at a
/// time on A then on B, and stops at the first op whose outcomes differ (return value, errno, bytes, names,
/// the stat fields that must agree, mtime/ctime change-or-not). Typical use: our FUSE-mounted translator as one
/// side, a kernel tmpfs directory as the other.
/// </summary>
/// <remarks>
/// Safety: only paths under the two roots are touched (see <see cref="FsxNamespace"/>); the roots are emptied at
/// start and at the end. Single-threaded: uid switching (setfsuid) is per thread and the run stays on the caller's.
/// </remarks>
public static class Fsx
{
    /// <summary>Runs the sequences <paramref name="o"/> describes and reports the first mismatch, if any.
    /// Sets the process umask to 022 for the duration (restored after); blocks the calling thread.</summary>
    /// <exception cref="ArgumentException">The roots are unsafe (equal, nested, or "/").</exception>
    /// <exception cref="IOException">A root could not be emptied (the sides would not start identical).</exception>
    public static FsxResult Run(FsxOptions o)
    {
        var (rootA, rootB) = CheckRoots(o.DirA, o.DirB);
        uint oldMask = Libc.umask((uint)O(22));
        using var runner = new FsxRunner(rootA, rootB, o);
        bool keep = false;
        try
        {
            var sw = Stopwatch.StartNew();
            long opsRun = 0;
            int sequences = 0;
            int seeds = o.Replay != null ? 1 : Math.Max(1, o.Seeds);
            for (int i = 0; i < seeds; i++)
            {
                int? seed = o.Replay != null ? null : o.Seed + i;
                var ops = o.Replay ?? new FsxGenerator(seed!.Value, o.Disabled, o.ZeroRange, o.MaxFileSize, o.MaxXattrSize).Generate(o.Ops);
                if (o.LogFile != null)
                    FsxOp.WriteLog(o.LogFile, ops, seed is int s ? $"fsx seed={s} ops={ops.Count}" : "fsx replay");
                var seqWatch = Stopwatch.StartNew();
                var mismatch = runner.RunSequence(ops, seed, out int executed);
                opsRun += executed;
                sequences++;
                o.Progress?.WriteLine(mismatch == null
                    ? $"{(seed is int s1 ? $"seed {s1}" : "replay")}: {executed} ops agree ({executed / Math.Max(seqWatch.Elapsed.TotalSeconds, 1e-9):F0} ops/s)"
                    : mismatch.ToString());
                if (mismatch == null) continue;

                var elapsed = sw.Elapsed;
                var failing = ops.Take(mismatch.Index + 1).ToList();
                if (o.LogFile != null)
                    FsxOp.WriteLog(o.LogFile, failing, $"fsx failing sequence, seed={seed?.ToString() ?? "replay"}, mismatch at the last op");
                IReadOnlyList<FsxOp>? minimized = null;
                FsxMismatch? minMismatch = null;
                int trials = 0;
                if (o.Minimize)
                {
                    (minimized, minMismatch, trials) = runner.Minimize(failing, mismatch, o.MaxMinimizeTrials, o.Progress);
                    if (o.LogFile != null)
                        FsxOp.WriteLog(o.LogFile + ".min", minimized, $"fsx minimised failing sequence ({minimized.Count} ops), mismatch at the last op");
                    // Leave the roots in the state the minimised sequence fails in, not that of the last trial.
                    if (o.KeepOnFailure) runner.RunSequence(minimized, null, out _);
                }
                keep = o.KeepOnFailure;
                return new FsxResult
                {
                    Statistics = runner.Statistics(),
                    OpsRun = opsRun, SequencesRun = sequences, Elapsed = elapsed, Mismatch = mismatch,
                    Failing = failing, Minimized = minimized, MinimizedMismatch = minMismatch, MinimizeTrials = trials,
                };
            }
            return new FsxResult { Statistics = runner.Statistics(), OpsRun = opsRun, SequencesRun = sequences, Elapsed = sw.Elapsed };
        }
        finally
        {
            runner.Finish(clean: !keep);
            Libc.umask(oldMask);
        }
    }

    /// <summary>Canonical absolute roots; refuses "/", equal roots, and one root inside the other.</summary>
    internal static (string A, string B) CheckRoots(string dirA, string dirB)
    {
        static string Lexical(string d)
        {
            if (string.IsNullOrWhiteSpace(d)) throw new ArgumentException("empty root directory");
            var full = Path.GetFullPath(d).TrimEnd('/');
            if (full.Length == 0) throw new ArgumentException("refusing to use / as a root");
            return full;
        }
        static void Check(string a, string b)
        {
            if (a == b) throw new ArgumentException($"both roots are {a}");
            if (a.StartsWith(b + "/", StringComparison.Ordinal) || b.StartsWith(a + "/", StringComparison.Ordinal))
                throw new ArgumentException($"one root lies inside the other: {a}, {b}");
        }
        static string Resolved(string full)
        {
            Directory.CreateDirectory(full);
            var info = new DirectoryInfo(full);
            var target = info.LinkTarget != null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
            return Lexical(target);
        }
        // Lexical check before creating anything, then again once symlinks are resolved.
        string a = Lexical(dirA), b = Lexical(dirB);
        Check(a, b);
        a = Resolved(a);
        b = Resolved(b);
        Check(a, b);
        return (a, b);
    }
}

/// <summary>Owns the two sides; runs sequences from empty roots, and minimises failing ones.</summary>
internal sealed class FsxRunner(string rootA, string rootB, FsxOptions o) : IDisposable
{
    private readonly FsxSide _a = new(rootA);
    private readonly FsxSide _b = new(rootB);
    /// <summary>Side A's inodes an mmap_read has touched in this sequence (<see cref="FsxOptions.SkipSeekDataAfterMmapRead"/>).</summary>
    private readonly HashSet<ulong> _mmapRead = new();

    /// <summary>Per kind: successes and failures (counted on side A), and errno counts over all kinds.</summary>
    private readonly Dictionary<(FsxOpKind Kind, int A, int B), long> _errnoDiffs = new();
    public readonly long[] Ok = new long[FsxOp.KindCount], Failed = new long[FsxOp.KindCount], ErrnoCounts = new long[FsxOp.KindCount * 256];

    /// <summary>Empties both roots, runs <paramref name="ops"/>, returns the first mismatch or null.</summary>
    public FsxMismatch? RunSequence(IReadOnlyList<FsxOp> ops, int? seed, out int executed)
    {
        _a.Reset();
        _b.Reset();
        _mmapRead.Clear();
        FsxCleaner.Empty(_a.Root, o.Uid, o.Gid);
        FsxCleaner.Empty(_b.Root, o.Uid, o.Gid);
        int oldUid = o.Uid is uint u ? Libc.setfsuid(u) : -1;
        int oldGid = o.Gid is uint g ? Libc.setfsgid(g) : -1;
        try
        {
            var hook = o.HookB;
            var after = o.AfterOpB;
            for (int i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                if (o.SkipDirectorySeek && IsKernelDirectorySeek(op)) continue;
                if (o.SkipCreatOnSymlink && op.Kind == FsxOpKind.Open && (op.Flags & Libc.O_CREAT) != 0
                    && _a.IsSymlink(op.Path!) && _b.IsSymlink(op.Path!)) continue;
                if (o.SkipDotWhenUnsearchable && o.Uid is uint du && (op.Path == "." || op.Path2 == ".")
                    && _a.RootUnsearchable(du, o.Gid ?? du)) continue;
                if (o.SkipSeekDataAfterMmapRead && op.Kind == FsxOpKind.Lseek && op.Flags is Libc.SEEK_DATA or Libc.SEEK_HOLE
                    && _mmapRead.Count > 0 && _mmapRead.Contains(_a.SlotInode(op.Slot))) continue;
                if (o.SkipSameSizeTruncate && op.Kind == FsxOpKind.Truncate
                    && _a.InodeIfSize(op.Path!, op.Length) != 0 && _b.InodeIfSize(op.Path!, op.Length) != 0) continue;
                _a.Execute(op);
                _b.Execute(op);
                if (o.SettleAfterNameExpiry > TimeSpan.Zero && _b.Ret >= 0 && MayExpireNames(op))
                    Thread.Sleep(o.SettleAfterNameExpiry);
                if (o.SkipSeekDataAfterMmapRead && op.Kind == FsxOpKind.MmapRead && _a.Ret >= 0) _mmapRead.Add(_a.SlotInode(op.Slot));
                hook?.Invoke(op, ref _b.Ret, ref _b.Errno);
                after?.Invoke(op, _b.Root);
                if (_a.Ret < 0) { Failed[(int)op.Kind]++; ErrnoCounts[(int)op.Kind * 256 + (_a.Errno & 255)]++; } else Ok[(int)op.Kind]++;
                var reason = FsxCompare.Compare(op, _a, _b, o);
                if (reason == null && _a.Ret < 0 && _a.Errno != _b.Errno)
                {
                    var key = (op.Kind, _a.Errno, _b.Errno);
                    _errnoDiffs[key] = _errnoDiffs.GetValueOrDefault(key) + 1;
                }
                if (reason != null)
                {
                    executed = i + 1;
                    return new FsxMismatch(i, seed, op, FsxCompare.Describe(op, _a), FsxCompare.Describe(op, _b), reason);
                }
            }
            executed = ops.Count;
            return null;
        }
        finally
        {
            if (oldGid >= 0) Libc.setfsgid((uint)oldGid);
            if (oldUid >= 0) Libc.setfsuid((uint)oldUid);
            _a.CloseAll();
            _b.CloseAll();
        }
    }

    /// <summary>A successful op after which a FUSE bridge may expire names the kernel cached: one that may have taken
    /// search permission away from a directory, or a rename (<see cref="FsxOptions.SettleAfterNameExpiry"/>).</summary>
    private bool MayExpireNames(in FsxOp op) => op.Kind switch
    {
        FsxOpKind.Chmod or FsxOpKind.Chown or FsxOpKind.Setxattr or FsxOpKind.Removexattr => _b.IsDirectory(op.Path!),
        FsxOpKind.Fchmod => _b.SlotIsDirectory(op.Slot),
        FsxOpKind.Rename => true,
        _ => false,
    };

    /// <summary>lseek SEEK_END/SEEK_DATA/SEEK_HOLE on a slot that holds a directory on both sides
    /// (<see cref="FsxOptions.SkipDirectorySeek"/>).</summary>
    private bool IsKernelDirectorySeek(in FsxOp op) =>
        op.Kind == FsxOpKind.Lseek && op.Flags is Libc.SEEK_END or Libc.SEEK_DATA or Libc.SEEK_HOLE
        && _a.SlotIsDirectory(op.Slot) && _b.SlotIsDirectory(op.Slot);

    /// <summary>
    /// Delta debugging (ddmin): removes chunks of the sequence while it still produces a mismatch, truncating after
    /// the mismatching op each time, until no single op can be removed or the trial budget is spent.
    /// </summary>
    public (IReadOnlyList<FsxOp> Ops, FsxMismatch Mismatch, int Trials) Minimize(
        List<FsxOp> failing, FsxMismatch mismatch, int maxTrials, TextWriter? progress)
    {
        var current = failing;
        var currentMismatch = mismatch;
        int trials = 0;
        var budget = Stopwatch.StartNew();
        bool Spent() => trials >= maxTrials || budget.Elapsed > o.MinimizeTimeBudget;

        // Cheap first pass: failures usually depend on recent ops, so try ever longer suffixes (each run costs
        // only its length) before ddmin's halves of a possibly long prefix.
        for (int k = 1; k < current.Count && !Spent(); k *= 2)
        {
            trials++;
            var suffix = current.GetRange(current.Count - k, k);
            var m = RunSequence(suffix, null, out _);
            if (m == null) continue;
            current = suffix.GetRange(0, m.Index + 1);
            currentMismatch = m;
            break;
        }

        int n = 2;
        while (current.Count >= 2 && !Spent())
        {
            int chunk = (current.Count + n - 1) / n;
            bool reduced = false;
            for (int start = 0; start < current.Count && !Spent(); start += chunk)
            {
                var candidate = new List<FsxOp>(current.Count);
                for (int i = 0; i < current.Count; i++)
                    if (i < start || i >= start + chunk) candidate.Add(current[i]);
                trials++;
                var m = RunSequence(candidate, null, out _);
                if (m == null) continue;
                current = candidate.GetRange(0, m.Index + 1);
                currentMismatch = m;
                n = Math.Max(n - 1, 2);
                reduced = true;
                break;
            }
            if (reduced) continue;
            if (n >= current.Count) break;
            n = Math.Min(current.Count, n * 2);
        }
        progress?.WriteLine($"minimised to {current.Count} ops in {trials} trials");
        return (current, currentMismatch, trials);
    }

    /// <summary>A table of per-kind success/failure counts and the errno histogram.</summary>
    public string Statistics()
    {
        var sb = new System.Text.StringBuilder();
        for (int k = 0; k < FsxOp.KindCount; k++)
        {
            sb.Append($"{FsxOp.KindName((FsxOpKind)k),-16} ok {Ok[k],9}  failed {Failed[k],9} ");
            for (int e = 0; e < 256; e++)
                if (ErrnoCounts[k * 256 + e] > 0) sb.Append($" {ErrnoNames.Name(e)}={ErrnoCounts[k * 256 + e]}");
            sb.Append('\n');
        }
        if (_errnoDiffs.Count > 0) sb.Append("errno differences (both sides failed; LenientErrno):\n");
        foreach (var ((kind, ea, eb), n) in _errnoDiffs.OrderByDescending(kv => kv.Value))
            sb.Append($"  {FsxOp.KindName(kind),-16} A {ErrnoNames.Name(ea)} B {ErrnoNames.Name(eb)}: {n}\n");
        return sb.ToString();
    }

    /// <summary>Closes everything and, if asked, empties both roots.</summary>
    public void Finish(bool clean)
    {
        _a.CloseAll();
        _b.CloseAll();
        if (!clean) return;
        FsxCleaner.Empty(_a.Root, null, null);
        FsxCleaner.Empty(_b.Root, null, null);
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }
}
