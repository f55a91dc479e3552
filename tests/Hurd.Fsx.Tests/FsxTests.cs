using Hurd.Fsx;

namespace Hurd.Fsx.Tests;

// One class: the runs set the process umask, so they must not overlap.
public class FsxTests
{
    private const int Write = (int)FsxOpKind.Write;

    /// <summary>A deliberately broken side: every write of more than 1000 bytes reports one byte less.</summary>
    private static void ShortWrites(in FsxOp op, ref long ret, ref int errno)
    {
        if (op.Kind == FsxOpKind.Write && ret > 1000) ret--;
    }

    [Fact(Timeout = 120_000)]
    public async Task SelfCheck_TwoKernelTmpfsDirs_100kOpsOverSeveralSeeds_Agree()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        var result = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Seed = 1, Ops = 25_000, Seeds = 4 });
        Assert.True(result.Passed, result.Mismatch?.ToString());
        Assert.Equal(100_000, result.OpsRun);
        Assert.Equal(4, result.SequencesRun);
        Assert.Empty(Directory.EnumerateFileSystemEntries(pair.A));
        Assert.Empty(Directory.EnumerateFileSystemEntries(pair.B));
    }

    [Fact(Timeout = 120_000)]
    public async Task SelfCheck_AsAnUnprivilegedFilesystemUser_Agrees()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        // As root: fsuid/fsgid 65534, so permission checks (EACCES/EPERM) are compared too. Otherwise: as ourselves.
        bool root = Environment.UserName == "root";
        var result = Fsx.Run(new FsxOptions
        {
            DirA = pair.A, DirB = pair.B, Seed = 500, Ops = 20_000,
            Uid = root ? 65534u : null, Gid = root ? 65534u : null,
        });
        Assert.True(result.Passed, result.Mismatch?.ToString());
        if (root) Assert.Contains("EACCES", result.Statistics);
    }

    [Fact(Timeout = 120_000)]
    public async Task BrokenSide_ShortWrite_IsDetectedAndMinimisedToAShortFailingSequence()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        var result = Fsx.Run(new FsxOptions
        {
            DirA = pair.A, DirB = pair.B, Seed = 7, Ops = 20_000, Minimize = true, HookB = ShortWrites,
        });
        Assert.False(result.Passed);
        Assert.Equal(FsxOpKind.Write, result.Mismatch!.Op.Kind);
        Assert.Equal("return values differ", result.Mismatch.Reason);
        Assert.NotNull(result.Minimized);
        Assert.InRange(result.Minimized!.Count, 1, 8);
        Assert.True(result.Minimized.Count < result.Failing!.Count);
        Assert.Equal(FsxOpKind.Write, result.Minimized[^1].Kind);

        // The minimised text replays to the same failure with the broken side, and passes without it.
        var text = string.Join('\n', result.Minimized.Select(op => op.ToString()));
        var replay = text.Split('\n').Select(FsxOp.Parse).ToList();
        var again = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Replay = replay, HookB = ShortWrites });
        Assert.False(again.Passed);
        Assert.Equal(replay.Count - 1, again.Mismatch!.Index);
        var healthy = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Replay = replay });
        Assert.True(healthy.Passed, healthy.Mismatch?.ToString());
    }

    [Fact(Timeout = 120_000)]
    public async Task BrokenSide_RareLateFailure_IsMinimisedToAFewOps()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        var result = Fsx.Run(new FsxOptions
        {
            DirA = pair.A, DirB = pair.B, Seed = 21, Ops = 100_000, Minimize = true,
            HookB = (in FsxOp op, ref long ret, ref int errno) =>
            {
                if (op.Kind == FsxOpKind.Write && ret > 600_000) ret--;
            },
        });
        Assert.False(result.Passed);
        Assert.True(result.Mismatch!.Index > 1000, $"mismatch at {result.Mismatch.Index}: not a late failure");
        Assert.InRange(result.Minimized!.Count, 1, 10);
    }

    [Fact(Timeout = 120_000)]
    public async Task BrokenSide_WrongErrnoOnUnlink_IsDetected()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        var result = Fsx.Run(new FsxOptions
        {
            DirA = pair.A, DirB = pair.B, Seed = 3, Ops = 20_000,
            HookB = (in FsxOp op, ref long ret, ref int errno) =>
            {
                if (op.Kind == FsxOpKind.Unlink && errno == 21 /* EISDIR */) errno = 1 /* EPERM */;
            },
        });
        Assert.False(result.Passed);
        Assert.Equal(FsxOpKind.Unlink, result.Mismatch!.Op.Kind);
        Assert.Equal("errno differs", result.Mismatch.Reason);
        Assert.Contains("EISDIR", result.Mismatch.A);
        Assert.Contains("EPERM", result.Mismatch.B);
    }

    [Fact(Timeout = 120_000)]
    public async Task BrokenSide_CorruptedFileContents_AreDetectedAndMinimised()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        var result = Fsx.Run(new FsxOptions
        {
            DirA = pair.A, DirB = pair.B, Seed = 9, Ops = 20_000, Minimize = true, Times = FsxTimeCheck.Off,
            AfterOpB = CorruptF0,
        });
        Assert.False(result.Passed);
        Assert.Contains("differ", result.Mismatch!.Reason);
        Assert.InRange(result.Minimized!.Count, 1, 10);
    }

    /// <summary>Sets byte 8 of side B's regular file f0 to 0x5A whenever it is something else.</summary>
    private static void CorruptF0(FsxOp op, string rootB)
    {
        var f0 = Path.Combine(rootB, "f0");
        var info = new FileInfo(f0);
        if (!info.Exists || info.LinkTarget != null || info.Length < 16) return;
        try
        {
            using var fs = new FileStream(f0, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.ReadWrite });
            fs.Position = 8;
            if (fs.ReadByte() == 0x5A) return;
            fs.Position = 8;
            fs.WriteByte(0x5A);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Not root and mode 0000: leave it.
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Replay_OfASavedLog_ReproducesTheRunAndItsFailure()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        var log = Path.Combine(pair.A + "-log.txt");
        try
        {
            var first = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Seed = 11, Ops = 5_000, LogFile = log });
            Assert.True(first.Passed, first.Mismatch?.ToString());
            var ops = FsxOp.ReadLog(log);
            Assert.Equal(new FsxGenerator(11).Generate(5_000), ops);
            var replayed = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Replay = ops });
            Assert.True(replayed.Passed, replayed.Mismatch?.ToString());
            Assert.Equal(5_000, replayed.OpsRun);

            var failing = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Seed = 5, Ops = 20_000, LogFile = log, HookB = ShortWrites });
            Assert.False(failing.Passed);
            var failingOps = FsxOp.ReadLog(log);
            Assert.Equal(failing.Mismatch!.Index + 1, failingOps.Count);
            var again = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Replay = failingOps, HookB = ShortWrites });
            Assert.Equal(failing.Mismatch.Index, again.Mismatch!.Index);
            Assert.Equal(failing.Mismatch.A, again.Mismatch.A);
            Assert.Equal(failing.Mismatch.B, again.Mismatch.B);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Generator_SameSeed_GivesTheSameSequence_AndTextRoundTrips()
    {
        await Task.Yield();
        var x = new FsxGenerator(42).Generate(20_000);
        var y = new FsxGenerator(42).Generate(20_000);
        Assert.Equal(x, y);
        Assert.NotEqual(x, new FsxGenerator(43).Generate(20_000));
        foreach (var op in x)
            Assert.Equal(op, FsxOp.Parse(op.ToString()));
        // Every kind shows up.
        Assert.Equal(FsxOp.KindCount, x.Select(o => o.Kind).Distinct().Count());
    }

    [Fact(Timeout = 30_000)]
    public async Task Generator_DisabledKinds_AreNeverProduced()
    {
        await Task.Yield();
        var ops = new FsxGenerator(1, [FsxOpKind.Fallocate, FsxOpKind.MmapWrite]).Generate(10_000);
        Assert.DoesNotContain(ops, o => o.Kind is FsxOpKind.Fallocate or FsxOpKind.MmapWrite);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("open path=../x")]
    [InlineData("open path=/etc/passwd")]
    [InlineData("symlink path=s0 target=../../etc")]
    [InlineData("rename path=d0 path2=d0/../../x")]
    [InlineData("frobnicate path=f0")]
    [InlineData("read slot=9 len=10")]
    public async Task Parse_RefusesEscapingPathsAndUnknownOps(string line)
    {
        await Task.Yield();
        Assert.Throws<FormatException>(() => FsxOp.Parse(line));
    }

    [Fact(Timeout = 30_000)]
    public async Task Run_RefusesEqualOrNestedRoots()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        Assert.Throws<ArgumentException>(() => Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.A, Ops = 1 }));
        Assert.Throws<ArgumentException>(() => Fsx.Run(new FsxOptions { DirA = pair.A, DirB = Path.Combine(pair.A, "x"), Ops = 1 }));
        Assert.Throws<ArgumentException>(() => Fsx.Run(new FsxOptions { DirA = "/", DirB = pair.B, Ops = 1 }));
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_EmptiesTheRootsAtStart()
    {
        await Task.Yield();
        using var pair = new TmpfsPair();
        Directory.CreateDirectory(Path.Combine(pair.A, "old", "deep"));
        File.WriteAllText(Path.Combine(pair.A, "old", "deep", "file"), "x");
        File.CreateSymbolicLink(Path.Combine(pair.B, "link"), "/");
        var result = Fsx.Run(new FsxOptions { DirA = pair.A, DirB = pair.B, Seed = 2, Ops = 2_000 });
        Assert.True(result.Passed, result.Mismatch?.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(pair.A));
        Assert.Empty(Directory.EnumerateFileSystemEntries(pair.B));
    }
}
