namespace Hurd.Translators.Tests.Bridge;

using System.Runtime.InteropServices;
using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;
using FuseDirentWriter = Hurd.Fuse.DirentWriter;
using RenameFlags = Hurd.Fuse.Abi.RenameFlags;

/// <summary>
/// The bridge's FUSE methods called directly (no mount) with synthetic request contexts, over tmpfs nodes served by
/// <see cref="MiniFs"/>: node ids and lookup counts, port lifetimes, per-identity ports, errors of a dead server.
/// </summary>
public sealed class BridgeUnitTests
{
    private const int T = 60_000;

    private static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0) => BridgeFixture.Ctx(node, uid, gid);

    private sealed class Fixture(FuseBridgeOptions? options = null) : BridgeFixture(options)
    {

        public ulong Lookup(ulong parent, string name, uint uid = 0)
        {
            Assert.Equal(Errno.OK, Bridge.Lookup(Ctx(parent, uid, uid), Encoding.UTF8.GetBytes(name), out var e));
            Assert.NotEqual(0ul, e.NodeId);
            return e.NodeId;
        }
    }

    private static void WaitFor(Func<bool> condition) => Assert.True(SpinWait.SpinUntil(condition, 20_000));

    [Fact(Timeout = T)]
    public Task Lookups_OfOneFile_ShareANodeId_AndTheLastForgetDropsItsPorts() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        Assert.Equal(Errno.OK, f.Root.Link("a", "b"));
        int baseline = f.Fs.LivePorts;

        ulong a = f.Lookup(1, "a");
        Assert.Equal(a, f.Lookup(1, "b"));   // a hard link: same (dev, ino, gen), same node id
        Assert.Equal(a, f.Lookup(1, "a"));
        Assert.NotEqual(1ul, a);
        Assert.Equal(2, f.Bridge.NodeCount);

        f.Bridge.Forget(a, 2);
        Assert.Equal(2, f.Bridge.NodeCount);
        f.Bridge.Forget(a, 1);
        Assert.Equal(1, f.Bridge.NodeCount);
        WaitFor(() => f.Fs.LivePorts == baseline); // every port of the node reached no-senders

        // A forgotten id is never reused: the next lookup of the same file gets a new one.
        ulong again = f.Lookup(1, "a");
        Assert.True(again > a);
        Assert.Equal(Errno.ESTALE, f.Bridge.Getattr(Ctx(a), default, out _));
    });

    [Fact(Timeout = T)]
    public Task Destroy_DropsEveryNodeAndHandle_ButTheRoot() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        Assert.Equal(Errno.OK, f.Root.Mkdir("d"));
        ulong a = f.Lookup(1, "a", uid: 1000);
        f.Lookup(1, "d");
        Assert.Equal(Errno.OK, f.Bridge.Open(Ctx(a, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out _));
        Assert.Equal(3, f.Bridge.NodeCount);
        f.Bridge.Destroy();
        Assert.Equal(1, f.Bridge.NodeCount);
        Assert.Equal(0, f.Bridge.OpenHandleCount);
        Assert.Equal(0, f.Bridge.IdentityPortCount);
        WaitFor(() => f.Fs.LivePorts == 1); // the root's uid-0 port only
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(1), default, out var attr));
        Assert.Equal((uint)FileMode.Directory, attr.Attr.Mode & 0xF000);
    });

    [Fact(Timeout = T)]
    public async Task ConcurrentLookupsAndForgets_OfSeveralIdentities_LeaveNothingBehind()
    {
        using var f = new Fixture(new FuseBridgeOptions { MaxIdentityPorts = 2 });
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        Assert.Equal(Errno.OK, f.Root.Link("a", "b"));
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var rnd = new Random(w);
            for (int i = 0; i < 500; i++) BridgeFixture.LookupStatForget(f.Bridge, rnd, errors);
        })).ToArray();
        await Task.WhenAll(workers);
        Assert.Empty(errors);
        Assert.Equal(1, f.Bridge.NodeCount);
        WaitFor(() => f.Fs.LivePorts == 1 + f.Bridge.IdentityPortCount); // the root's ports only
    }

    [Fact(Timeout = T)]
    public Task CallersOtherThanRoot_UseTheirOwnPorts_DerivedOncePerIdentity() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("s", "secret"));
        Assert.Equal(Errno.OK, f.Root.Chmod("s", 0x180)); // 0600, root's
        ulong s = f.Lookup(1, "s", uid: 1000);

        Assert.Equal(Errno.EACCES, f.Bridge.Open(Ctx(s, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out _));
        Assert.Equal(Errno.OK, f.Bridge.Open(Ctx(s), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var open));
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(s), new ReleaseIn { Fh = open.Fh }));
        Assert.Equal(Errno.EACCES, f.Bridge.Access(Ctx(s, 1000, 1000), 4));
        Assert.Equal(Errno.OK, f.Bridge.Access(Ctx(s), 4));

        int before = f.Fs.RestrictCalls;
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(1, 1000, 1000), default, out _));
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(1, 1000, 1000), default, out _));
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(1, 2000, 2000), default, out _));
        Assert.Equal(before + 1, f.Fs.RestrictCalls); // one io_restrict_auth per (node, identity): 1000's was made by the lookup

        // What uid 1000 creates is uid 1000's.
        Assert.Equal(Errno.OK, f.Bridge.Mkdir(Ctx(1, 1000, 1000), "d"u8, new MkdirIn { Mode = 0x1ED }, out var d));
        Assert.Equal(1000u, d.Attr.Uid);
        Assert.Equal(Errno.OK, f.Bridge.Create(Ctx(d.NodeId, 1000, 1000), "x"u8,
            new CreateIn { Flags = OpenFlagsLinux.O_WRONLY | OpenFlagsLinux.O_CREAT, Mode = 0x81A4 }, out var x, out var xo));
        Assert.Equal((1000u, 1000u), (x.Attr.Uid, x.Attr.Gid));
        Assert.Equal(Errno.OK, f.Bridge.Write(Ctx(x.NodeId, 1000, 1000), new WriteIn { Fh = xo.Fh }, "hi"u8, out uint w));
        Assert.Equal(2u, w);
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(x.NodeId, 1000, 1000), new ReleaseIn { Fh = xo.Fh }));
        Assert.Equal("hi", f.Root.ReadText("d/x"));
        Assert.Equal(0, f.Bridge.OpenHandleCount);
    });

    [Fact(Timeout = T)]
    public Task TheIdentityPortCache_IsBounded() => Task.Run(() =>
    {
        using var f = new Fixture(new FuseBridgeOptions { MaxIdentityPorts = 3 });
        for (uint uid = 1000; uid < 1010; uid++)
            Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(1, uid, uid), default, out _));
        Assert.Equal(3, f.Bridge.IdentityPortCount);
        WaitFor(() => f.Fs.LivePorts == 4); // the root's uid-0 port and three per-identity ports: the evicted ones are gone
        int restricts = f.Fs.RestrictCalls;
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(1, 1000, 1000), default, out _)); // evicted earlier: derived again
        Assert.Equal(restricts + 1, f.Fs.RestrictCalls);
        Assert.Equal(3, f.Bridge.IdentityPortCount);
        WaitFor(() => f.Fs.LivePorts == 4);
    });

    [Fact(Timeout = T)]
    public Task ADeadServer_GivesEIO_NotAHang() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        ulong a = f.Lookup(1, "a");
        f.Fs.Dispose(); // every port of the server is destroyed: calls to them give EDIED
        Assert.Equal(Errno.EIO, f.Bridge.Getattr(Ctx(a), default, out _));
        Assert.Equal(Errno.EIO, f.Bridge.Lookup(Ctx(1), "a"u8, out _));
        Assert.Equal(Errno.EIO, f.Bridge.Open(Ctx(a), new OpenIn(), out _));
    });

    [Fact(Timeout = T)]
    public Task Rename_NoReplaceIsExclusive_ExchangeWithoutFsExtIsEINVAL() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "1"));
        Assert.Equal(Errno.OK, f.Root.WriteFile("b", "2"));
        Assert.Equal(Errno.EINVAL, f.Bridge.Rename(Ctx(1), "a"u8, 1, "b"u8, RenameFlags.Exchange));
        Assert.Equal(Errno.EEXIST, f.Bridge.Rename(Ctx(1), "a"u8, 1, "b"u8, RenameFlags.NoReplace));
        Assert.Equal(Errno.OK, f.Bridge.Mkdir(Ctx(1), "d"u8, new MkdirIn { Mode = 0x1ED }, out var d));
        Assert.Equal(Errno.OK, f.Bridge.Rename(Ctx(1), "a"u8, d.NodeId, "c"u8, RenameFlags.NoReplace));
        Assert.Equal("1", f.Root.ReadText("d/c"));
        Assert.Equal(Errno.OK, f.Bridge.Rename(Ctx(1), "b"u8, d.NodeId, "c"u8, RenameFlags.None));
        Assert.Equal("2", f.Root.ReadText("d/c"));
    });

    [Fact(Timeout = T)]
    public Task Rename_Exchange_GoesThroughFsExt_OnTheServingLayer() => Task.Run(() =>
    {
        var tmp = new TmpfsFileSystem();
        var root = new PosixClient(tmp.Root, Identity.Root);
        Assert.Equal(Errno.OK, root.WriteFile("a", "1"));
        Assert.Equal(Errno.OK, root.WriteFile("b", "2"));
        using var served = new ServedFilesystem(tmp.Root, "tmpfs");
        using var control = served.Control.MakeSend();
        Assert.Equal(Errno.OK, FuseBridge.Connect(control, null, out var bridge));
        using (bridge)
        {
            Assert.Equal(Errno.OK, bridge!.Rename(Ctx(1), "a"u8, 1, "b"u8, RenameFlags.Exchange));
            Assert.Equal("2", root.ReadText("a"));
            Assert.Equal("1", root.ReadText("b"));
            Assert.Equal(Errno.EINVAL, bridge.Rename(Ctx(1), "a"u8, 1, "b"u8, RenameFlags.Whiteout));
        }
    });

    [Fact(Timeout = T)]
    public Task ReadOnly_RefusesChanges() => Task.Run(() =>
    {
        using var f = new Fixture(new FuseBridgeOptions { ReadOnly = true });
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "1"));
        ulong a = f.Lookup(1, "a");
        Assert.Equal(Errno.EROFS, f.Bridge.Mkdir(Ctx(1), "d"u8, new MkdirIn { Mode = 0x1ED }, out _));
        Assert.Equal(Errno.EROFS, f.Bridge.Unlink(Ctx(1), "a"u8));
        Assert.Equal(Errno.EROFS, f.Bridge.Open(Ctx(a), new OpenIn { Flags = OpenFlagsLinux.O_RDWR }, out _));
        Assert.Equal(Errno.OK, f.Bridge.Open(Ctx(a), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
        var buf = new byte[16];
        Assert.Equal(Errno.OK, f.Bridge.Read(Ctx(a), new ReadIn { Fh = o.Fh, Size = 16 }, buf, out int n));
        Assert.Equal("1", Encoding.UTF8.GetString(buf, 0, n));
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(a), new ReleaseIn { Fh = o.Fh }));
    });

    private static List<(string Name, ulong Node, ulong Off)> ParseDirents(ReadOnlySpan<byte> buf, bool plus)
    {
        var list = new List<(string, ulong, ulong)>();
        int pos = 0;
        while (pos < buf.Length)
        {
            ulong node = 0;
            if (plus) { node = MemoryMarshal.Read<EntryOut>(buf[pos..]).NodeId; pos += Marshal.SizeOf<EntryOut>(); }
            var d = MemoryMarshal.Read<FuseDirent>(buf[pos..]);
            string name = Encoding.UTF8.GetString(buf.Slice(pos + 24, (int)d.Namelen));
            list.Add((name, node, d.Off));
            pos += (24 + (int)d.Namelen + 7) & ~7;
        }
        return list;
    }

    [Fact(Timeout = T)]
    public Task Readdir_ResumesAtTheCookie_AndReaddirplusCountsOnlyWhatTheReplyTook() => Task.Run(() =>
    {
        using var f = new Fixture();
        for (int i = 0; i < 20; i++) Assert.Equal(Errno.OK, f.Root.WriteFile($"file{i:D2}", "x"));
        Assert.Equal(Errno.OK, f.Bridge.Opendir(Ctx(1), new OpenIn(), out var od));

        // READDIR in small pieces: every name once, in order, "." and ".." included.
        var names = new List<string>();
        ulong off = 0;
        var buf = new byte[100];
        while (true)
        {
            var w = new FuseDirentWriter(buf, plus: false);
            Assert.Equal(Errno.OK, f.Bridge.Readdir(Ctx(1), new ReadIn { Fh = od.Fh, Offset = off, Size = 100 }, ref w));
            if (w.Length == 0) break;
            var got = ParseDirents(buf.AsSpan(0, w.Length), plus: false);
            names.AddRange(got.Select(g => g.Name));
            off = got[^1].Off;
        }
        Assert.Equal(22, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains(".", names);
        Assert.Contains("..", names);

        // READDIRPLUS into a reply with room for 3 records: "." and ".." carry no node; one file is entered (+1).
        var pbuf = new byte[3 * FuseDirentWriter.DirentplusSize(6)];
        var pw = new FuseDirentWriter(pbuf, plus: true);
        Assert.Equal(Errno.OK, f.Bridge.Readdirplus(Ctx(1), new ReadIn { Fh = od.Fh, Offset = 0, Size = (uint)pbuf.Length }, ref pw));
        var recs = ParseDirents(pbuf.AsSpan(0, pw.Length), plus: true);
        Assert.Equal(3, recs.Count);
        Assert.Equal(2, recs.Count(r => r.Node == 0));
        Assert.Equal(2, f.Bridge.NodeCount); // the root and the one file the reply took; the refused one was undone
        ulong file = recs.Single(r => r.Node != 0).Node;
        Assert.Equal(file, f.Lookup(1, recs.Single(r => r.Node != 0).Name));
        f.Bridge.Forget(file, 2);
        Assert.Equal(1, f.Bridge.NodeCount);
        Assert.Equal(Errno.OK, f.Bridge.Releasedir(Ctx(1), new ReleaseIn { Fh = od.Fh }));
    });

    [Fact(Timeout = T)]
    public Task Readdir_MixedNameLengths_FillEachReply_AndListEveryNameOnce() => Task.Run(() =>
    {
        // Each dir_readdir asks for no more entries than the rest of the reply can take (counted at the shortest
        // record): names of every length still come once each, and a reply takes as many as fit.
        using var f = new Fixture();
        var want = new HashSet<string> { ".", ".." };
        for (int i = 0; i < 150; i++) want.Add(new string('n', 1 + i % 40) + i);
        foreach (var n in want)
            if (n is not ("." or "..")) Assert.Equal(Errno.OK, f.Root.WriteFile(n, ""));
        Assert.Equal(Errno.OK, f.Bridge.Opendir(Ctx(1), new OpenIn(), out var od));
        foreach (int size in new[] { 200, 1000, 4096, 65536 })
        {
            var names = new List<string>();
            ulong off = 0;
            int last = -1;
            var buf = new byte[size];
            while (true)
            {
                var w = new FuseDirentWriter(buf, plus: false);
                Assert.Equal(Errno.OK, f.Bridge.Readdir(Ctx(1), new ReadIn { Fh = od.Fh, Offset = off, Size = (uint)size }, ref w));
                if (w.Length == 0) break;
                var got = ParseDirents(buf.AsSpan(0, w.Length), plus: false);
                // The previous reply stopped only because this reply's first name would not fit in it.
                if (last >= 0) Assert.True(last + FuseDirentWriter.DirentSize(got[0].Name.Length) > size);
                last = w.Length;
                names.AddRange(got.Select(g => g.Name));
                off = got[^1].Off;
            }
            Assert.Equal(want.Count, names.Count);
            Assert.Equal(want, names.ToHashSet());
        }
        Assert.Equal(Errno.OK, f.Bridge.Releasedir(Ctx(1), new ReleaseIn { Fh = od.Fh }));
    });

    [Fact(Timeout = T)]
    public Task Symlinks_AreMadeTheHurdWay_AndReadBack() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Bridge.Symlink(Ctx(1), "l"u8, "some/where"u8, out var l));
        Assert.Equal((uint)FileMode.Symlink, l.Attr.Mode & 0xF000);
        var buf = new byte[64];
        Assert.Equal(Errno.OK, f.Bridge.Readlink(Ctx(l.NodeId), buf, out int n));
        Assert.Equal("some/where", Encoding.UTF8.GetString(buf, 0, n));
        Assert.Equal(Errno.OK, f.Root.Readlink("l", out var target));
        Assert.Equal("some/where", target);
        Assert.Equal(Errno.EEXIST, f.Bridge.Symlink(Ctx(1), "l"u8, "x"u8, out _));
    });

    [Fact(Timeout = T)]
    public Task IdentitySource_ReadsGroupsFromProc_AndNormalises() => Task.Run(() =>
    {
        var a = new BridgeIdentity(5, 7, [9, 7, 3, 9]);
        var b = new BridgeIdentity(5, 7, [3, 9]);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal([7u, 3u, 9u], a.Gids.ToArray());
        Assert.NotEqual(a, new BridgeIdentity(5, 8, [3, 9]));

        var src = new IdentitySource();
        Assert.Same(BridgeIdentity.Root, src.For(0, 5, (uint)Environment.ProcessId, default));
        var mine = src.For(1000, 1000, (uint)Environment.ProcessId, default);
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Groups:"));
        var expected = line[7..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).Where(g => g != 1000).Distinct().Order();
        Assert.Equal(expected, mine.Gids[1..].ToArray());
        Assert.Same(mine, src.For(1000, 1000, (uint)Environment.ProcessId, default)); // cached per pid
        Assert.Empty(src.For(1000, 1000, 0, default).Gids[1..].ToArray());          // the kernel's own requests
    });
}
