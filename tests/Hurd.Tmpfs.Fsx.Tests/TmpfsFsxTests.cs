using System.Text;
using Hurd.Fsx;
using Xunit.Abstractions;

namespace Hurd.Tmpfs.Fsx.Tests;

/// <summary>
/// Our tmpfs through FUSE against a kernel tmpfs under the differential tester (issue 4: CI runs at least 100,000
/// operations over several seeds), and the minimised sequences of the bugs it found, replayed. Each test mounts its
/// own pair and always unmounts it and stops the daemon. Root only (they pass without running otherwise).
/// </summary>
public sealed class TmpfsFsxTests(ITestOutputHelper log)
{
    /// <summary>The options every run against our FUSE mount needs, and why:
    /// no st_blocks (kernel tmpfs allocates pages on mmap reads of holes, a FUSE file cannot know of them), no
    /// FALLOC_FL_ZERO_RANGE (kernel tmpfs answers EOPNOTSUPP, ours implements it), and the two cases the Linux FUSE
    /// kernel code or the page cache decides (see <see cref="FsxOptions.SkipDirectorySeek"/> and
    /// <see cref="FsxOptions.SkipSeekDataAfterMmapRead"/>), and truncate(2) to the current size, which the Hurd can only
    /// express as ftruncate (<see cref="FsxOptions.SkipSameSizeTruncate"/>).</summary>
    /// <summary>The options of every run here; with <paramref name="user"/>, as uid and gid 1000, each directory permission
    /// change given 2 ms to reach the kernel (<see cref="FsxOptions.SettleAfterNameExpiry"/>).</summary>
    static FsxOptions Options(TmpfsFsxMount m, int seed, int ops, int seeds, IReadOnlyList<FsxOp>? replay = null, bool user = false,
        bool skipDot = false, bool minimize = true) => new()
    {
        DirA = m.Ours, DirB = m.Kernel, Seed = seed, Ops = ops, Seeds = seeds, Replay = replay,
        CompareBlocks = false, ZeroRange = false, SkipDirectorySeek = true, SkipSeekDataAfterMmapRead = true,
        SkipSameSizeTruncate = true,
        Minimize = minimize, MinimizeTimeBudget = TimeSpan.FromSeconds(60), SkipDotWhenUnsearchable = skipDot,
        Uid = user ? 1000u : null, Gid = user ? 1000u : null,
        SettleAfterNameExpiry = user ? TimeSpan.FromMilliseconds(2) : TimeSpan.Zero,
    };

    static string Report(FsxResult r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(r.Mismatch!.ToString());
        if (r.Minimized is { } min)
        {
            sb.AppendLine($"minimised ({min.Count} ops, replay with fsx --replay):");
            foreach (var op in min) sb.AppendLine(op.ToString());
            sb.AppendLine(r.MinimizedMismatch!.ToString());
        }
        return sb.ToString();
    }

    [Fact(Timeout = 240_000)]
    public async Task Fsx_OurTmpfsAgreesWithKernelTmpfs_100000OpsOverFourSeeds()
    {
        if (TmpfsFsxMount.Unavailable is { } why) { log.WriteLine("skipped: " + why); return; }
        using var m = await TmpfsFsxMount.Start();
        var r = await Task.Run(() => global::Hurd.Fsx.Fsx.Run(Options(m, seed: 1, ops: 25_000, seeds: 4)));
        log.WriteLine($"{r.OpsRun} ops, {r.OpsPerSecond:F0} ops/s");
        if (!r.Passed) Assert.Fail(Report(r));
        Assert.Equal(100_000, r.OpsRun);
    }

    /// <summary>A difference no FUSE server without default_permissions can remove (found by a soak as uid 1000 against
    /// ext2fs): the caller owns the root, takes its own search permission away (fchmod) and sets the root's times
    /// through the path "." — the kernel refuses the walk (EACCES), but through FUSE "." never reaches the server, which
    /// sees a utimensat by the owner and allows it. The replay differs without
    /// <see cref="FsxOptions.SkipDotWhenUnsearchable"/> and agrees with it.</summary>
    [Fact(Timeout = 120_000)]
    public async Task Fsx_DotInAnUnsearchableRoot_IsAKnownDifference()
    {
        if (TmpfsFsxMount.Unavailable is { } why) { log.WriteLine("skipped: " + why); return; }
        var ops = FsxOp.ReadLog(Path.Combine(AppContext.BaseDirectory, "Regressions", "dot-in-unsearchable-root.fsx"));
        using var m = await TmpfsFsxMount.Start();
        var differs = await Task.Run(() => global::Hurd.Fsx.Fsx.Run(Options(m, 1, 0, 1, ops, user: true, minimize: false)));
        Assert.False(differs.Passed);
        Assert.Equal(FsxOpKind.Utimensat, differs.Mismatch!.Op.Kind);
        var skipped = await Task.Run(() => global::Hurd.Fsx.Fsx.Run(Options(m, 1, 0, 1, ops, user: true, skipDot: true)));
        if (!skipped.Passed) Assert.Fail(Report(skipped));
    }

    /// <summary>The minimised sequences of the mismatches fsx found (Regressions/*.fsx), each fixed; they must agree.
    /// Those found in runs as a user replay as uid and gid 1000.</summary>
    [Theory(Timeout = 120_000)]
    [InlineData("append-mmap-writeback.fsx", false)]
    [InlineData("fallocate-mtime.fsx", false)]
    [InlineData("ftruncate-same-size.fsx", false)]
    [InlineData("chown-unchanged-ctime.fsx", false)]
    [InlineData("punch-hole-near-max-offset.fsx", false)]
    [InlineData("mmap-writeback-keeps-setgid.fsx", true)]
    [InlineData("chmod-dir-drops-cached-names.fsx", true)]
    [InlineData("rename-into-private-dir.fsx", true)]
    public async Task Fsx_FixedMismatch_Replays(string file, bool asUser)
    {
        if (TmpfsFsxMount.Unavailable is { } why) { log.WriteLine("skipped: " + why); return; }
        var ops = FsxOp.ReadLog(Path.Combine(AppContext.BaseDirectory, "Regressions", file));
        using var m = await TmpfsFsxMount.Start();
        var r = await Task.Run(() => global::Hurd.Fsx.Fsx.Run(Options(m, 1, 0, 1, ops, user: asUser)));
        if (!r.Passed) Assert.Fail(Report(r));
    }
}
