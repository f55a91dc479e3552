using System.Globalization;
using Hurd.Fsx;

// fsx: the differential filesystem tester. Exit code 0: the sides agree; 1: a mismatch; 2: bad usage.
const string Usage = """
usage: fsx --a DIR_A --b DIR_B [--seed N] [--ops N] [--seeds K] [--soak [--soak-ops N]]
           [--replay FILE] [--log FILE] [--minimize] [--uid U] [--gid G]
           [--no-blocks] [--no-dir-size] [--times off|conservative|strict] [--disable op,op] [--no-zero-range] [--max-file-size N] [--max-xattr-size N] [--keep] [--stats]
           [--skip-dir-seek] [--skip-seek-data-after-mmap-read] [--skip-same-size-truncate] [--skip-creat-on-symlink] [--skip-dot-unsearchable] [--lenient-errno] [--settle-ms N] [--inject short-write]
  Runs a random operation sequence (reproducible from --seed) on both directories and compares every result.
  --seeds K     run seeds N..N+K-1, --ops operations each (each from empty roots)
  --soak        10,000,000 operations in batches of --ops (default 100,000) over successive seeds
  --replay FILE replay a log (written by --log; one op a line)
  --minimize    on a mismatch, shrink the failing sequence and print it (replayable)
  --disable     never generate these ops (names as in logs: fallocate, mmap_write, setxattr, ...)
  --skip-seek-data-after-mmap-read  skip SEEK_DATA/SEEK_HOLE on files mmap-read before (kernel tmpfs fills holes on faults)
  --skip-same-size-truncate  skip truncate(2) to the current size (the Hurd's is open + file_set_size, i.e. ftruncate)
  --skip-creat-on-symlink  skip O_CREAT opens of a symlink (FUSE without default_permissions: the kernel skips its sticky-directory rule)
  --skip-dot-unsearchable  as --uid, skip ops on "." while the root is not searchable (FUSE without default_permissions: "." never reaches the server)
  --lenient-errno  both sides failing with different errnos agree (tallied; printed with --stats)
  --settle-ms N   wait N ms after a chmod/chown/xattr change of a directory on B (a FUSE bridge drops cached names after it)
  --skip-dir-seek  skip lseek SEEK_END/SEEK_DATA/SEEK_HOLE on directory fds (FUSE: the kernel answers those, not the server)
  --inject      break side B on purpose (short-write: big writes report one byte less) to see detection work
  The two directories are emptied at start and at the end; nothing outside them is touched.
""";

string? a = null, b = null, replay = null, log = null;
int seed = 1, seeds = 1;
int? ops = null;
long soakOps = 10_000_000;
bool skipDirSeek = false, skipMmapSeek = false, skipTruncTimes = false, skipCreatSymlink = false, skipDot = false, lenientErrno = false;
int settleMs = 0;
bool soak = false, stats = false, zeroRange = true, minimize = false, blocks = true, dirSize = true, keep = false;
long maxFileSize = long.MaxValue;
int maxXattrSize = int.MaxValue;
uint? uid = null, gid = null;
var times = FsxTimeCheck.Conservative;
FsxResultHook? hook = null;
var disabled = new List<FsxOpKind>();
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
        var ci = CultureInfo.InvariantCulture;
        switch (args[i])
        {
            case "--a": a = Next(); break;
            case "--b": b = Next(); break;
            case "--seed": seed = int.Parse(Next(), ci); break;
            case "--ops": ops = int.Parse(Next(), ci); break;
            case "--seeds": seeds = int.Parse(Next(), ci); break;
            case "--soak": soak = true; break;
            case "--soak-ops": soakOps = long.Parse(Next(), ci); break;
            case "--replay": replay = Next(); break;
            case "--log": log = Next(); break;
            case "--minimize": minimize = true; break;
            case "--uid": uid = uint.Parse(Next(), ci); break;
            case "--gid": gid = uint.Parse(Next(), ci); break;
            case "--no-blocks": blocks = false; break;
            case "--no-dir-size": dirSize = false; break;
            case "--keep": keep = true; break;
            case "--stats": stats = true; break;
            case "--no-zero-range": zeroRange = false; break;
            case "--skip-dir-seek": skipDirSeek = true; break;
            case "--skip-creat-on-symlink": skipCreatSymlink = true; break;
            case "--skip-dot-unsearchable": skipDot = true; break;
            case "--lenient-errno": lenientErrno = true; break;
            case "--settle-ms": settleMs = int.Parse(Next(), ci); break;
            case "--skip-same-size-truncate": skipTruncTimes = true; break;
            case "--skip-seek-data-after-mmap-read": skipMmapSeek = true; break;
            case "--max-file-size": maxFileSize = long.Parse(Next(), ci); break;
            case "--max-xattr-size": maxXattrSize = int.Parse(Next(), ci); break;
            case "--inject":
                hook = Next() switch
                {
                    "short-write" => (in FsxOp op, ref long ret, ref int errno) => { if (op.Kind == FsxOpKind.Write && ret > 1000) ret--; },
                    var h => throw new FormatException($"unknown --inject {h} (known: short-write)"),
                };
                break;
            case "--times":
                times = Next() switch
                {
                    "off" => FsxTimeCheck.Off,
                    "conservative" => FsxTimeCheck.Conservative,
                    "strict" => FsxTimeCheck.Strict,
                    var t => throw new FormatException($"unknown --times {t}"),
                };
                break;
            case "--disable":
                foreach (var name in Next().Split(',', StringSplitOptions.RemoveEmptyEntries))
                    disabled.Add(FsxOp.TryParseKind(name, out var k) ? k : throw new FormatException($"unknown op {name}"));
                break;
            case "-h": case "--help": Console.Write(Usage); return 0;
            default: throw new FormatException($"unknown argument {args[i]}");
        }
    }
    if (a == null || b == null) throw new FormatException("--a and --b are required");
}
catch (FormatException e)
{
    Console.Error.WriteLine("fsx: " + e.Message);
    Console.Error.Write(Usage);
    return 2;
}

int perSeed = ops ?? (soak ? 100_000 : 10_000);
var options = new FsxOptions
{
    DirA = a, DirB = b, Seed = seed, Ops = perSeed,
    Seeds = soak ? (int)Math.Max(1, (soakOps + perSeed - 1) / perSeed) : seeds,
    Replay = replay != null ? FsxOp.ReadLog(replay) : null,
    Minimize = minimize, LogFile = log, Uid = uid, Gid = gid, CompareBlocks = blocks, CompareDirectorySize = dirSize,
    Times = times, Disabled = disabled, ZeroRange = zeroRange, MaxFileSize = maxFileSize, MaxXattrSize = maxXattrSize, SkipDirectorySeek = skipDirSeek, SkipSeekDataAfterMmapRead = skipMmapSeek, SkipSameSizeTruncate = skipTruncTimes, SkipCreatOnSymlink = skipCreatSymlink, SkipDotWhenUnsearchable = skipDot, LenientErrno = lenientErrno, SettleAfterNameExpiry = TimeSpan.FromMilliseconds(settleMs), HookB = hook, KeepOnFailure = keep, Progress = Console.Out,
};
var result = Fsx.Run(options);
if (stats || lenientErrno) Console.Write(result.Statistics);
Console.WriteLine($"{(result.Passed ? "PASS" : "FAIL")}: {result.OpsRun} ops in {result.SequencesRun} sequence(s), "
    + $"{result.Elapsed.TotalSeconds:F2} s, {result.OpsPerSecond:F0} ops/s");
if (result.Minimized != null)
{
    Console.WriteLine($"# minimised failing sequence ({result.Minimized.Count} ops, {result.MinimizeTrials} trials); replay with --replay:");
    foreach (var op in result.Minimized) Console.WriteLine(op.ToString());
    foreach (var line in result.MinimizedMismatch!.ToString().Split('\n')) Console.WriteLine("# " + line);
    if (log != null) Console.WriteLine($"# written to {log}.min");
}
return result.Passed ? 0 : 1;
