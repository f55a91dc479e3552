using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Tests.Serving;

/// <summary>The serving layer over real tmpfs nodes, through the generated clients (in-process transport).</summary>
public class ServingTests
{
    private static (ServedFilesystem Fs, SendRight Root) Serve()
    {
        var fs = new ServedFilesystem(new TmpfsFileSystem(TmpfsOptions.Default).Root, "tmpfs");
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.Read, out var root));
        return (fs, root!);
    }

    private static Errno Lookup(SendRight dir, string path, OpenFlags flags, out SendRight? result, FileMode mode = (FileMode)0x1A4)
    {
        result = null;
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = new FsClient(dir).dir_lookup(Encoding.UTF8.GetBytes(path), flags, mode, out var rt, retry, out int n, out var port);
        if (e != Errno.OK) return e;
        result = SendRight.FromName(port.Name);
        if (rt != Hurd.Interfaces.RetryType.Normal || n != 0)
        {
            // Follow one retry into a translator's root.
            var next = result!;
            e = Lookup(next, Encoding.UTF8.GetString(retry[..n]), flags, out result, mode);
            next.Dispose();
        }
        return e;
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateWriteReadStat_ThroughGeneratedClients()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        {
            Assert.Equal(Errno.OK, Lookup(root, "f", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var f));
            using (f)
            {
                var io = new IoClient(f!);
                Assert.Equal(Errno.OK, io.io_write("hello"u8, 0, out int w));
                Assert.Equal(5, w);
                var buf = new byte[16];
                Assert.Equal(Errno.OK, io.io_read(buf, out int n, 0, 16));
                Assert.Equal("hello", Encoding.UTF8.GetString(buf, 0, n));
                Assert.Equal(Errno.OK, io.io_stat(out var st));
                Assert.Equal(5, st.Size);
                Assert.True(st.Mode.IsRegular());
            }
            Assert.Equal(Errno.ENOENT, Lookup(root, "missing", OpenFlags.Read, out _));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task PortsAreReleased_WhenTheirLastSendRightGoes()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        {
            int before = fs.ProtidPortCount;
            Assert.Equal(Errno.OK, Lookup(root, "g", OpenFlags.Write | OpenFlags.Create, out var g));
            Assert.Equal(before + 1, fs.ProtidPortCount);
            g!.Dispose();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (fs.ProtidPortCount != before && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Equal(before, fs.ProtidPortCount);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Symlink_MadeTheHurdWay_MkfileSetTranslatorLink()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        {
            var dir = new FsClient(root);
            Assert.Equal(Errno.OK, dir.dir_mkfile(OpenFlags.Write, (FileMode)0x1FF, out var anon));
            using var file = SendRight.FromName(anon)!;
            Assert.Equal(Errno.OK, new FsClient(file).file_set_translator(TransFlags.Set, 0, 0, "/hurd/symlink\0target\0"u8, PortName.Null));
            Assert.Equal(Errno.OK, dir.dir_link(file.Name, "link"u8, true));
            Assert.Equal(Errno.OK, Lookup(root, "link", OpenFlags.NoLink, out var l));
            using (l)
            {
                Assert.Equal(Errno.OK, new IoClient(l!).io_stat(out var st));
                Assert.True(st.Mode.IsSymlink());
                Assert.Equal(6, st.Size);
            }
        }
    }

    /// <summary>A passive translator (the real hello daemon) starts on the first lookup through its node and its root
    /// replaces the node; showtrans reads the record; O_NOTRANS reaches the node itself.</summary>
    [Fact(Timeout = 60_000)]
    public async Task PassiveTranslator_StartsOnLookup_AndServesItsRoot()
    {
        await Task.Yield();
        // Other tests in this process may run passive hellos of their own at the same time: only the ones that
        // appear during this test are its own.
        var before = PassiveHelloChildren();
        var (fs, root) = Serve();
        using (fs) using (root)
        {
            Assert.Equal(Errno.OK, Lookup(root, "hello", OpenFlags.Write | OpenFlags.Create, out var node));
            using (node)
            {
                var argz = "hello\0--contents=Hi there\n\0"u8;
                Assert.Equal(Errno.OK, new FsClient(node!).file_set_translator(TransFlags.Set, 0, 0, argz, PortName.Null));
                var buf = new byte[256];
                Assert.Equal(Errno.OK, new FsClient(node!).file_get_translator(buf, out int n));
                Assert.Equal(argz.ToArray(), buf[..n]);
            }
            Assert.Equal(Errno.OK, Lookup(root, "hello", OpenFlags.Read, out var hello));
            using (hello)
            {
                var data = new byte[64];
                Assert.Equal(Errno.OK, new IoClient(hello!).io_read(data, out int got, 0, 64));
                Assert.Equal("Hi there\n", Encoding.UTF8.GetString(data, 0, got));
            }
            Assert.Equal(Errno.OK, Lookup(root, "hello", OpenFlags.Read | OpenFlags.NoTrans, out var raw));
            using (raw)
            {
                Assert.Equal(Errno.OK, new IoClient(raw!).io_stat(out var st));
                Assert.True((st.Mode & FileMode.PassiveTranslator) != 0);
                Assert.True((st.Mode & FileMode.ActiveTranslator) != 0);
                Assert.Equal(0, st.Size);
            }
        }
        // Disposing the filesystem made the translator go away: no daemon is left behind (its exit is awaited
        // briefly: the kill is sent at disposal, the process is reaped asynchronously).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (PassiveHelloChildren().Except(before).Any() && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Empty(PassiveHelloChildren().Except(before));
    }

    /// <summary>The pids of this process's children that are hello daemons started as passive translators.</summary>
    static HashSet<int> PassiveHelloChildren()
    {
        var found = new HashSet<int>();
        string self = $"PPid:\t{Environment.ProcessId}\n";
        foreach (var p in System.Diagnostics.Process.GetProcessesByName("dotnet"))
        {
            try
            {
                if (File.ReadAllText($"/proc/{p.Id}/status").Contains(self)
                    && File.ReadAllText($"/proc/{p.Id}/cmdline").Contains("hello.dll")
                    && File.ReadAllText($"/proc/{p.Id}/environ").Contains("HURD_BOOTSTRAP"))
                    found.Add(p.Id);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>The names dir_readdir gives for the directory at <paramref name="path"/>, read on a new peropen in
    /// batches of 7 from entry <paramref name="from"/>.</summary>
    private static List<string> List(SendRight root, string path, int from = 0)
    {
        Assert.Equal(Errno.OK, Lookup(root, path, OpenFlags.Read | OpenFlags.Directory, out var d));
        using (d)
        {
            var names = new List<string>();
            var buf = new byte[4096];
            for (int entry = from; ;)
            {
                Assert.Equal(Errno.OK, new FsClient(d!).dir_readdir(buf, out int len, entry, 7, buf.Length, out int amount));
                if (amount == 0) return names;
                var r = new DirentReader(buf.AsSpan(0, len));
                while (r.TryRead(out var de)) names.Add(Encoding.UTF8.GetString(de.Name));
                entry += amount;
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Readdir_AfterAnotherDirectorysPeropenIsGone_ListsOnlyItsOwnEntries()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        {
            // A large and a small directory listed in turn: the serving layer hands a closed peropen's snapshot (and its
            // grown arrays) to the next directory opened, which must see its own entries only, from entry 0 and after.
            Assert.Equal(Errno.OK, new FsClient(root).dir_mkdir("big"u8, (FileMode)0x1ED));
            Assert.Equal(Errno.OK, new FsClient(root).dir_mkdir("small"u8, (FileMode)0x1ED));
            Assert.Equal(Errno.OK, Lookup(root, "big", OpenFlags.Read, out var big));
            using (big)
                for (int i = 0; i < 300; i++) Assert.Equal(Errno.OK, new FsClient(big!).dir_mkdir(Encoding.UTF8.GetBytes($"entry-with-a-long-name-{i:D4}"), (FileMode)0x1ED));
            Assert.Equal(Errno.OK, Lookup(root, "small", OpenFlags.Read, out var small));
            using (small) Assert.Equal(Errno.OK, new FsClient(small!).dir_mkdir("x"u8, (FileMode)0x1ED));
            for (int round = 0; round < 20; round++)
            {
                var b = List(root, "big");
                Assert.Equal(302, b.Count);
                Assert.Equal(300, b.Count(n => n.StartsWith("entry-with-a-long-name-", StringComparison.Ordinal)));
                Thread.Sleep(2); // let the released peropen be destroyed (off the caller's thread)
                Assert.Equal(["x"], List(root, "small").Where(n => n is not "." and not "..").ToList());
                Thread.Sleep(2);
                // A first read past entry 0 on a new peropen: a snapshot kept with the big directory's entries (still
                // marked filled) would hand those out here.
                Assert.Equal(302, List(root, "big").Count);
                Thread.Sleep(2);
                Assert.Equal(["x"], List(root, "small", from: 2));
                Thread.Sleep(2);
            }
            Assert.True(fs.SnapshotsReused > 0, "no snapshot was reused: the test did not exercise the reuse");
        }
    }
}
