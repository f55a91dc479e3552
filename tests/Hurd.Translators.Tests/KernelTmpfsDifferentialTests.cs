using System.Runtime.InteropServices;
using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators;

namespace Hurd.Translators.Tests;

/// <summary>
/// Our tmpfs, driven through the SDK's calls, against the kernel's tmpfs (a directory under /dev/shm) driven through
/// libc: the same seeded random operations on both, every result compared (errno, bytes, the stat fields that must
/// agree, directory listings). A node-level forerunner of the FUSE differential tester. Skipped where /dev/shm is not
/// a tmpfs. Runs as whoever runs the tests (root in CI); every operation is by that user on both sides.
/// </summary>
public sealed partial class KernelTmpfsDifferentialTests
{
    const int T = 120_000;

    static readonly string[] Paths = ["a", "b", "c", "d", "e", "d/a", "d/b", "d/e", "d/e/a", "e/a", "e/b", "f"];
    static readonly string[] Targets = ["a", "b", "d", "d/a", "e/a", "x", "."];

    /// <param name="seed">The random seed.</param>
    /// <param name="withCopy">Include copy_file_range. Ours keeps holes where Linux's tmpfs (splice) writes zero pages,
    /// so st_blocks is compared only in runs without it.</param>
    [Theory(Timeout = T)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(5, false)]
    public async Task RandomOperations_MatchTheKernel(int seed, bool withCopy)
    {
        await Task.Yield();
        if (!Directory.Exists("/dev/shm")) return;
        string kroot = Path.Combine("/dev/shm", $"hurd-tmpfs-diff-{Environment.ProcessId}-{seed}");
        Directory.CreateDirectory(kroot);
        Libc.chmod(kroot, 0x1ED); // 0755, as our root, whatever the umask
        try
        {
            var who = Identity.Of(Libc.geteuid(), Libc.getegid());
            if (who.Uid == 0) who = Identity.Root;
            // our root belongs to the test's user, as the kernel directory does
            var fs = new TmpfsFileSystem(TmpfsOptions.Default with { Mode = (FileMode)0x1ED }, who.Uid, who.Gid);
            uint mask = Libc.umask(0x12); // read the umask (and put it back): the kernel side applies it, ours must too
            Libc.umask(mask);
            umask = mask;
            var ours = new PosixClient(fs.Root, who);
            var rnd = new Random(seed);
            var log = new List<string>();
            for (int step = 0; step < 3000; step++)
            {
                string p = Paths[rnd.Next(Paths.Length)], q = Paths[rnd.Next(Paths.Length)];
                string[] watch = [p, q, Parent(p), Parent(q)];
                var before = watch.Select(w => Times(kroot, ours, w)).ToArray();
                // The kernel stamps times from a coarse clock: an unchanged time is only conclusive after a clock tick.
                bool tick = step % 10 == 0;
                if (tick) Thread.Sleep(12);
                string what = Step(rnd, kroot, ours, p, q, withCopy, out Errno k, out Errno o, out string? detail);
                for (int i = 0; i < watch.Length && detail is null; i++)
                {
                    var after = Times(kroot, ours, watch[i]);
                    var (b, a) = (before[i], after);
                    // only for a name that still names the same file on both sides
                    if (b is null || a is null || b.Value.KIno != a.Value.KIno || b.Value.OIno != a.Value.OIno) continue;
                    bool km = b.Value.KM != a.Value.KM, kc = b.Value.KC != a.Value.KC, om = !b.Value.OM.Equals(a.Value.OM), oc = !b.Value.OC.Equals(a.Value.OC);
                    if ((km && !om) || (kc && !oc) || (tick && (km != om || kc != oc)))
                        detail = $"times of '{watch[i]}': kernel mtime {(km ? "changed" : "same")} ctime {(kc ? "changed" : "same")}, ours mtime {(om ? "changed" : "same")} ctime {(oc ? "changed" : "same")} ({b.Value.OM} {b.Value.OC} -> {a.Value.OM} {a.Value.OC}; kernel {b.Value.KM} -> {a.Value.KM})";
                }
                log.Add($"{step}: {what} -> kernel {k}, ours {o}");
                if (k != o || detail is not null)
                    Assert.Fail($"seed {seed} step {step}: {what}: kernel {k}, ours {o} {detail}\n" + string.Join('\n', log.TakeLast(15)));
                foreach (var hp in Paths)
                {
                    string km = HoleMap(kroot + "/" + hp), om = OurHoleMap(ours, hp);
                    Assert.True(km == om, $"seed {seed} step {step}: data/hole map of {hp}: kernel {km}, ours {om}\n" + string.Join('\n', log.TakeLast(15)));
                }
                if (step % 50 == 49) CompareTree(kroot, ours, log, seed, blocks: !withCopy);
            }
            CompareTree(kroot, ours, log, seed, blocks: !withCopy);
        }
        finally
        {
            Unlock(kroot);
            try { Directory.Delete(kroot, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Gives every directory under <paramref name="dir"/> back rwx for its owner, so that a non-root run can delete it.</summary>
    static void Unlock(string dir)
    {
        if (Libc.Lstat(dir, out var st) != Errno.OK || (st.Mode & 0xF000) != 0x4000) return;
        Libc.chmod(dir, 0x1C0);
        try { foreach (var e in Directory.EnumerateFileSystemEntries(dir)) Unlock(e); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [ThreadStatic] static uint umask;

    /// <summary>A creation mode as the kernel side gets it (after the process umask).</summary>
    static uint M(uint mode) => mode & ~umask;

    static Errno Err(long r) => r >= 0 ? Errno.OK : (Errno)Marshal.GetLastPInvokeError();

    static string Parent(string path) => path.LastIndexOf('/') is int i and >= 0 ? path[..i] : "";

    /// <summary>mtime and ctime of a path on both sides (lstat), with the inode numbers; null when either side has none.</summary>
    static (ulong KIno, (long, long) KM, (long, long) KC, ulong OIno, TimeSpec OM, TimeSpec OC)? Times(string kroot, PosixClient c, string path)
    {
        if (Libc.Lstat(kroot + "/" + path, out var ks) != Errno.OK || c.Stat(path, out var os, nofollow: true) != Errno.OK) return null;
        return (ks.Ino, (ks.Mtime, ks.MtimeNsec), (ks.Ctime, ks.CtimeNsec), os.Ino, os.Mtime, os.Ctime);
    }

    static string Step(Random rnd, string kroot, PosixClient c, string p, string q, bool withCopy, out Errno k, out Errno o, out string? detail)
    {
        detail = null;
        string K(string rel) => kroot + "/" + rel;
        int op = rnd.Next(21);
        if (op == 17 && !withCopy) op = 10;
        switch (op)
        {
            case 15:
            {
                var (kf, of, name) = rnd.Next(6) switch
                {
                    0 => (Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL, OpenFlags.Write | OpenFlags.Create | OpenFlags.Exclusive, "creat-excl"),
                    1 => (Libc.O_RDWR | Libc.O_TRUNC, OpenFlags.Read | OpenFlags.Write | OpenFlags.Truncate, "rdwr-trunc"),
                    2 => (Libc.O_RDONLY | Libc.O_DIRECTORY, OpenFlags.Read | OpenFlags.Directory, "directory"),
                    3 => (Libc.O_RDWR, OpenFlags.Read | OpenFlags.Write, "rdwr"),
                    4 => (Libc.O_RDONLY | Libc.O_NOFOLLOW, OpenFlags.Read | OpenFlags.NoFollow, "nofollow"),
                    _ => (Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, OpenFlags.Write | OpenFlags.Create | OpenFlags.Truncate, "creat-trunc"),
                };
                int kfd = Libc.open(K(p), kf, 0x1A4);
                k = Err(kfd);
                if (kfd >= 0) Libc.close(kfd);
                o = c.Open(p, of, out var pr, (FileMode)M(0x1A4));
                if (o == Errno.OK) pr.Release();
                return $"open {p} {name}";
            }
            case 16:
            {
                int whence = 3 + rnd.Next(2);
                long off = rnd.Next(3) == 0 ? rnd.Next(1 << 20) : rnd.Next(40000);
                int kfd = Libc.open(K(p), Libc.O_RDONLY, 0);
                k = Err(kfd);
                long kr = -1;
                if (kfd >= 0) { kr = Libc.lseek(kfd, off, whence); if (kr < 0) k = Err(kr); Libc.close(kfd); }
                o = c.Open(p, OpenFlags.Read, out var pr);
                if (o == Errno.OK)
                {
                    try { o = Calls.IoSeek(pr, off, (Whence)whence, out long or); if (o == Errno.OK && k == Errno.OK && or != kr) detail = $"offset {or} vs {kr}"; }
                    finally { pr.Release(); }
                }
                return $"lseek {p} {off} {(whence == 3 ? "DATA" : "HOLE")}";
            }
            case 17:
            {
                long so = rnd.Next(20000), doff = rnd.Next(20000), len = rnd.Next(1, 30000);
                int ks = Libc.open(K(p), Libc.O_RDONLY, 0);
                k = Err(ks);
                int kd = -1;
                if (ks >= 0) { kd = Libc.open(K(q), Libc.O_WRONLY, 0); k = Err(kd); }
                long kn = -1;
                if (ks >= 0 && kd >= 0) { kn = Libc.copy_file_range(ks, ref so, kd, ref doff, (nint)len, 0); if (kn < 0) k = Err(kn); }
                if (ks >= 0) Libc.close(ks);
                if (kd >= 0) Libc.close(kd);
                so -= kn > 0 ? kn : 0; doff -= kn > 0 ? kn : 0;
                o = c.Open(p, OpenFlags.Read, out var ps);
                if (o == Errno.OK)
                {
                    o = c.Open(q, OpenFlags.Write, out var pd);
                    if (o == Errno.OK)
                    {
                        try { o = Calls.CopyFileRange(ps, so, pd, doff, len, out long on); if (o == Errno.OK && k == Errno.OK && on != kn) detail = $"copied {on} vs {kn}"; }
                        finally { pd.Release(); }
                    }
                    ps.Release();
                }
                return $"copy_file_range {p}@{so} {q}@{doff} {len}";
            }
            case 18:
            {
                // stat through symlinks (FIFOs are left out of this tester: opening one on the kernel side blocks)
                k = Libc.Stat(K(p), out var ks);
                o = c.Stat(p, out var os);
                if (k == Errno.OK && o == Errno.OK && (ks.Mode != os.Mode.ToPosix() || ks.Size != os.Size || ks.Nlink != os.Nlink))
                    detail = $"stat mode {Convert.ToString(os.Mode.ToPosix(), 8)} size {os.Size} nlink {os.Nlink} vs {Convert.ToString(ks.Mode, 8)} {ks.Size} {ks.Nlink}";
                return $"stat {p}";
            }
            case 19:
            {
                string name = "user." + (char)('a' + rnd.Next(3));
                var kb = new byte[256];
                long kn = Libc.getxattr(K(p), name, kb, kb.Length);
                k = Err(kn);
                o = c.Getxattr(p, name, out var ov);
                if (k == Errno.OK && o == Errno.OK && !ov.AsSpan().SequenceEqual(kb.AsSpan(0, (int)kn))) detail = "values differ";
                return $"getxattr {p} {name}";
            }
            case 20:
            {
                var kb = new byte[4096];
                long kn = Libc.listxattr(K(p), kb, kb.Length);
                k = Err(kn);
                o = c.Listxattr(p, out var on);
                if (k == Errno.OK && o == Errno.OK)
                {
                    var kn2 = Encoding.UTF8.GetString(kb, 0, (int)kn).Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(n => n.StartsWith("user.")).Order(StringComparer.Ordinal);
                    if (!kn2.SequenceEqual(on.Order(StringComparer.Ordinal))) detail = $"names [{string.Join(',', on)}] vs [{string.Join(',', kn2)}]";
                }
                return $"listxattr {p}";
            }
            case 0:
            case 1:
            {
                long off = rnd.Next(4) == 0 ? rnd.Next(1 << 20) : rnd.Next(10000);
                var data = new byte[rnd.Next(1, 9000)];
                rnd.NextBytes(data);
                bool append = rnd.Next(4) == 0;
                int kfd = Libc.open(K(p), Libc.O_WRONLY | Libc.O_CREAT | (append ? Libc.O_APPEND : 0), 0x1A4);
                k = Err(kfd);
                long kn = -1;
                if (kfd >= 0) { kn = Libc.pwrite(kfd, data, data.Length, off); if (kn < 0) k = Err(kn); Libc.close(kfd); }
                o = c.Open(p, OpenFlags.Write | OpenFlags.Create | (append ? OpenFlags.Append : 0), out var pr, (FileMode)M(0x1A4));
                if (o == Errno.OK)
                {
                    try { o = Calls.IoWrite(pr, off, data, out int on); if (o == Errno.OK && on != kn) detail = $"wrote {on} vs {kn}"; }
                    finally { pr.Release(); }
                }
                return $"write {p} @{off} +{data.Length}{(append ? " append" : "")}";
            }
            case 2:
            {
                long size = rnd.Next(3) switch { 0 => 0, 1 => rnd.Next(20000), _ => rnd.Next(1 << 22) };
                k = Err(Libc.truncate(K(p), size));
                o = c.Resolve(p, out var n);
                if (o == Errno.OK) o = Calls.Truncate(c.RootProtid, n, size);
                return $"truncate {p} {size}";
            }
            case 3:
                k = Err(Libc.mkdir(K(p), 0x1ED));
                o = c.Mkdir(p, M(0x1ED));
                return $"mkdir {p}";
            case 4:
                k = Err(Libc.rmdir(K(p)));
                o = c.Rmdir(p);
                return $"rmdir {p}";
            case 5:
                k = Err(Libc.unlink(K(p)));
                o = c.Unlink(p);
                return $"unlink {p}";
            case 6:
            case 7:
            {
                uint flags = rnd.Next(5) switch { 3 => 1u, 4 => 2u, _ => 0u };
                k = Err(Libc.renameat2(-100, K(p), -100, K(q), flags));
                o = c.Rename(p, q, (RenameFlags)flags);
                return $"rename {p} {q} flags {flags}";
            }
            case 8:
                k = Err(Libc.link(K(p), K(q)));
                o = c.Link(p, q);
                return $"link {p} {q}";
            case 9:
            {
                string t = Targets[rnd.Next(Targets.Length)];
                k = Err(Libc.symlink(t, K(p)));
                o = c.Symlink(t, p);
                return $"symlink {t} {p}";
            }
            case 10:
            {
                // read the whole file (following symlinks)
                int kfd = Libc.open(K(p), Libc.O_RDONLY, 0);
                k = Err(kfd);
                byte[] kd = [];
                if (kfd >= 0)
                {
                    var ms = new MemoryStream();
                    var buf = new byte[65536];
                    long off = 0, n;
                    while ((n = Libc.pread(kfd, buf, buf.Length, off)) > 0) { ms.Write(buf, 0, (int)n); off += n; }
                    if (n < 0) k = Err(n);
                    Libc.close(kfd);
                    kd = ms.ToArray();
                }
                o = c.Open(p, OpenFlags.Read, out var pr);
                if (o == Errno.OK)
                {
                    try { o = PosixClient.ReadAll(pr, out var od); if (o == Errno.OK && k == Errno.OK && !od.AsSpan().SequenceEqual(kd)) detail = $"data differ ({od.Length} vs {kd.Length} bytes)"; }
                    finally { pr.Release(); }
                }
                return $"read {p}";
            }
            case 11:
            {
                uint mode = (uint)rnd.Next(0x200) & ~0x12u; // no g+w/o+w so that umask does not matter
                k = Err(Libc.chmod(K(p), mode));
                o = c.Chmod(p, mode);
                return $"chmod {p} {Convert.ToString(mode, 8)}";
            }
            case 12:
            {
                int mode = rnd.Next(3) switch { 0 => 0, 1 => 1, _ => 3 }; // allocate, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE
                long off = rnd.Next(30000), len = rnd.Next(1, 30000);
                int kfd = Libc.open(K(p), Libc.O_RDWR, 0);
                k = Err(kfd);
                if (kfd >= 0) { k = Err(Libc.fallocate(kfd, mode, off, len)); Libc.close(kfd); }
                o = c.Open(p, OpenFlags.Read | OpenFlags.Write, out var pr);
                if (o == Errno.OK) { try { o = Calls.Fallocate(pr, (FallocateMode)mode, off, len); } finally { pr.Release(); } }
                return $"fallocate {p} mode {mode} {off}+{len}";
            }
            case 13:
            {
                k = Libc.Readlink(K(p), out string? kt);
                o = c.Readlink(p, out string ot);
                if (k == Errno.OK && o == Errno.OK && kt != ot) detail = $"target {ot} vs {kt}";
                return $"readlink {p}";
            }
            default:
            {
                string name = "user." + (char)('a' + rnd.Next(3));
                var value = new byte[rnd.Next(0, 40)];
                rnd.NextBytes(value);
                int flags = rnd.Next(3);
                k = Err(Libc.setxattr(K(p), name, value, value.Length, flags));
                o = c.Setxattr(p, name, value, (XattrFlags)flags);
                return $"setxattr {p} {name} flags {flags}";
            }
        }
    }

    /// <summary>The data extents of a file, by SEEK_DATA/SEEK_HOLE ("-" when it cannot be opened for reading).</summary>
    static string HoleMap(string path)
    {
        int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_NONBLOCK, 0);
        if (fd < 0) return "-";
        var sb = new StringBuilder();
        long off = 0;
        while (true)
        {
            long d = Libc.lseek(fd, off, 3);
            if (d < 0) break;
            long h = Libc.lseek(fd, d, 4);
            sb.Append($"[{d},{h})");
            off = h;
        }
        Libc.close(fd);
        return sb.ToString();
    }

    static string OurHoleMap(PosixClient c, string path)
    {
        if (c.Open(path, OpenFlags.Read | OpenFlags.NonBlock, out var p) != Errno.OK) return "-";
        var sb = new StringBuilder();
        long off = 0;
        try
        {
            while (true)
            {
                if (Calls.IoSeek(p, off, Whence.Data, out long d) != Errno.OK) break;
                Calls.IoSeek(p, d, Whence.Hole, out long h);
                sb.Append($"[{d},{h})");
                off = h;
            }
        }
        finally { p.Release(); }
        return sb.ToString();
    }

    static void CompareTree(string kroot, PosixClient c, List<string> log, int seed, bool blocks)
    {
        foreach (var p in Paths.Prepend(""))
        {
            var k = Libc.Lstat(kroot + "/" + p, out var ks);
            var o = c.Stat(p, out var os, nofollow: true);
            string where = $"seed {seed} after {log.Count} steps, lstat '{p}'";
            Assert.True(k == o, $"{where}: kernel {k}, ours {o}\n" + string.Join('\n', log.TakeLast(15)));
            if (k != Errno.OK) continue;
            string Fields(uint mode, ulong nlink, long size, long blocks) => $"mode {Convert.ToString(mode, 8)} nlink {nlink} size {size} blocks {blocks}";
            var type = os.Mode.Type();
            long kb = blocks && type == FileMode.Regular ? ks.Blocks : 0, ob = blocks && type == FileMode.Regular ? os.Blocks : 0;
            var kf = Fields(ks.Mode, ks.Nlink, ks.Size, kb);
            var of = Fields(os.Mode.ToPosix(), os.Nlink, os.Size, ob);
            Assert.True(kf == of, $"{where}: kernel {kf}, ours {of}\n" + string.Join('\n', log.TakeLast(15)));
            if (type == FileMode.Directory)
            {
                List<string?> kn;
                try { kn = Directory.EnumerateFileSystemEntries(kroot + "/" + p).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList(); }
                catch (UnauthorizedAccessException)
                {
                    Assert.True(c.Readdir(p, out _) == Errno.EACCES, $"{where}: kernel EACCES on listing, ours not");
                    continue;
                }
                Assert.Equal(Errno.OK, c.Readdir(p, out var on));
                var onames = on.Where(n => n is not "." and not "..").Order(StringComparer.Ordinal).ToList();
                Assert.True(kn.SequenceEqual(onames), $"{where}: listing kernel [{string.Join(',', kn)}] ours [{string.Join(',', onames)}]");
            }
        }
    }

    static unsafe partial class Libc
    {
        public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200, O_APPEND = 0x400, O_NONBLOCK = 0x800,
            O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000;

        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int open(string path, int flags, int mode);
        [LibraryImport("libc", SetLastError = true)] public static partial int close(int fd);
        [LibraryImport("libc", SetLastError = true)] public static partial nint pwrite(int fd, byte[] buf, nint count, long offset);
        [LibraryImport("libc", SetLastError = true)] public static partial nint pread(int fd, byte[] buf, nint count, long offset);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int truncate(string path, long size);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int mkdir(string path, int mode);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int rmdir(string path);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int unlink(string path);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int link(string oldpath, string newpath);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int symlink(string target, string linkpath);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] private static partial nint readlink(string path, byte[] buf, nint size);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int chmod(string path, uint mode);
        [LibraryImport("libc", SetLastError = true)] public static partial int fallocate(int fd, int mode, long offset, long len);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int setxattr(string path, string name, byte[] value, nint size, int flags);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] private static partial int lstat(string path, out KStat st);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] private static partial int stat(string path, out KStat st);
        [LibraryImport("libc", SetLastError = true)] public static partial long lseek(int fd, long offset, int whence);
        [LibraryImport("libc", SetLastError = true)] public static partial long copy_file_range(int fdIn, ref long offIn, int fdOut, ref long offOut, nint len, uint flags);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial nint getxattr(string path, string name, byte[] value, nint size);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial nint listxattr(string path, byte[] list, nint size);
        [LibraryImport("libc")] public static partial uint geteuid();
        [LibraryImport("libc")] public static partial uint umask(uint mask);
        [LibraryImport("libc")] public static partial uint getegid();

        public static Errno Readlink(string path, out string? target)
        {
            var buf = new byte[4096];
            nint n = readlink(path, buf, buf.Length);
            target = n >= 0 ? Encoding.UTF8.GetString(buf, 0, (int)n) : null;
            return Err(n);
        }

        public static Errno Lstat(string path, out KStat st) => Err(lstat(path, out st));
        public static Errno Stat(string path, out KStat st) => Err(stat(path, out st));
    }

    /// <summary>struct stat on x86-64 Linux (144 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct KStat
    {
        public ulong Dev, Ino, Nlink;
        public uint Mode, Uid, Gid, Pad0;
        public ulong Rdev;
        public long Size, Blksize, Blocks;
        public long Atime, AtimeNsec, Mtime, MtimeNsec, Ctime, CtimeNsec;
        public long R0, R1, R2;
    }
}
