namespace Hurd.Translators.Tests.Bridge;

using System.Runtime.InteropServices;
using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Fuse;
using FuseDirentWriter = Hurd.Fuse.DirentWriter;

/// <summary>
/// What the bridge does to spare the kernel and the servers work: auto_cache (FOPEN_KEEP_CACHE only while the file's
/// mtime and size are those of its previous open), FOPEN_NOFLUSH, READDIRPLUS entries of known files without a dir_lookup,
/// HANDLE_KILLPRIV_V2 (no GETXATTR before each write).
/// </summary>
public sealed class BridgeCacheTests
{
    private const int T = 60_000;

    private static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0) => BridgeFixture.Ctx(node, uid, gid);

    private sealed class Fixture(FuseBridgeOptions? options = null) : BridgeFixture(options)
    {

        public ulong Lookup(string name)
        {
            Assert.Equal(Errno.OK, Bridge.Lookup(Ctx(1), Encoding.UTF8.GetBytes(name), out var e));
            return e.NodeId;
        }

        public OpenReplyFlags OpenAndRelease(ulong node)
        {
            Assert.Equal(Errno.OK, Bridge.Open(Ctx(node), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
            Assert.Equal(Errno.OK, Bridge.Release(Ctx(node), new ReleaseIn { Fh = o.Fh }));
            return o.OpenFlags;
        }
    }

    [Fact(Timeout = T)]
    public Task AutoCache_KeepsThePageCache_OnlyWhileMtimeAndSizeAreUnchanged() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        ulong a = f.Lookup("a");

        var first = f.OpenAndRelease(a);
        Assert.Equal(OpenReplyFlags.None, first & OpenReplyFlags.KeepCache); // nothing known yet: the cache is dropped
        Assert.NotEqual(OpenReplyFlags.None, first & OpenReplyFlags.NoFlush);
        Assert.NotEqual(OpenReplyFlags.None, f.OpenAndRelease(a) & OpenReplyFlags.KeepCache);

        // Another client (here the tree itself, as IPC would) changes the file: the next open drops the cache, the one
        // after keeps it again.
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "other data"));
        Assert.Equal(OpenReplyFlags.None, f.OpenAndRelease(a) & OpenReplyFlags.KeepCache);
        Assert.NotEqual(OpenReplyFlags.None, f.OpenAndRelease(a) & OpenReplyFlags.KeepCache);

        // Same size, new mtime.
        Thread.Sleep(2);
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "OTHER DATA"));
        Assert.Equal(OpenReplyFlags.None, f.OpenAndRelease(a) & OpenReplyFlags.KeepCache);
    });

    [Fact(Timeout = T)]
    public Task Create_StartsTheStamp_AndNoAutoCacheNeverKeeps() => Task.Run(() =>
    {
        using (var f = new Fixture())
        {
            Assert.Equal(Errno.OK, f.Bridge.Create(Ctx(1), "n"u8,
                new CreateIn { Flags = OpenFlagsLinux.O_WRONLY | OpenFlagsLinux.O_CREAT, Mode = 0x81A4 }, out var n, out var no));
            Assert.NotEqual(OpenReplyFlags.None, no.OpenFlags & OpenReplyFlags.NoFlush);
            Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(n.NodeId), new ReleaseIn { Fh = no.Fh }));
            Assert.NotEqual(OpenReplyFlags.None, f.OpenAndRelease(n.NodeId) & OpenReplyFlags.KeepCache);
        }
        using (var f = new Fixture(new FuseBridgeOptions { AutoCache = false }))
        {
            Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
            ulong a = f.Lookup("a");
            f.OpenAndRelease(a);
            Assert.Equal(OpenReplyFlags.None, f.OpenAndRelease(a) & OpenReplyFlags.KeepCache);
        }
    });

    private static List<(string Name, ulong Node)> ParsePlus(ReadOnlySpan<byte> buf)
    {
        var list = new List<(string, ulong)>();
        int pos = 0;
        while (pos < buf.Length)
        {
            ulong node = MemoryMarshal.Read<EntryOut>(buf[pos..]).NodeId;
            pos += Marshal.SizeOf<EntryOut>();
            var d = MemoryMarshal.Read<FuseDirent>(buf[pos..]);
            list.Add((Encoding.UTF8.GetString(buf.Slice(pos + 24, (int)d.Namelen)), node));
            pos += (24 + (int)d.Namelen + 7) & ~7;
        }
        return list;
    }

    private static List<(string Name, ulong Node)> ReadAllPlus(FuseBridge bridge, ulong dir, uint uid = 0)
    {
        Assert.Equal(Errno.OK, bridge.Opendir(Ctx(dir, uid, uid), new OpenIn(), out var od));
        var buf = new byte[64 * 1024];
        var w = new FuseDirentWriter(buf, plus: true);
        Assert.Equal(Errno.OK, bridge.Readdirplus(Ctx(dir, uid, uid), new ReadIn { Fh = od.Fh, Size = (uint)buf.Length }, ref w));
        Assert.Equal(Errno.OK, bridge.Releasedir(Ctx(dir, uid, uid), new ReleaseIn { Fh = od.Fh }));
        return ParsePlus(buf.AsSpan(0, w.Length));
    }

    [Fact(Timeout = T)]
    public Task Readdirplus_GivesKnownFilesTheirNodes_WithoutALookup_AndCountsThem() => Task.Run(() =>
    {
        using var f = new Fixture();
        for (int i = 0; i < 10; i++) Assert.Equal(Errno.OK, f.Root.WriteFile($"f{i}", "x"));
        var known = Enumerable.Range(0, 5).ToDictionary(i => $"f{i}", i => f.Lookup($"f{i}"));

        int before = f.Fs.LookupCalls;
        var recs = ReadAllPlus(f.Bridge, 1);
        Assert.Equal(12, recs.Count);
        Assert.Equal(before + 1 + 5, f.Fs.LookupCalls); // OPENDIR's, and the five files the bridge did not know
        foreach (var (name, id) in known) Assert.Equal(id, recs.Single(r => r.Name == name).Node);
        Assert.Equal(11, f.Bridge.NodeCount);

        // Each entry gave one lookup count: two FORGETs of one now drop a known file (looked up once before).
        f.Bridge.Forget(known["f0"], 1);
        Assert.Equal(11, f.Bridge.NodeCount);
        f.Bridge.Forget(known["f0"], 1);
        Assert.Equal(10, f.Bridge.NodeCount);
    });

    [Fact(Timeout = T)]
    public Task Readdirplus_WithoutSearchPermission_GivesNoNodes_EvenForKnownFiles() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.Mkdir("d", 0x1ED));
        Assert.Equal(Errno.OK, f.Root.WriteFile("d/x", "x"));
        Assert.Equal(Errno.OK, f.Root.Chmod("d", 0x1E4)); // 0744: others may read the names, not search
        ulong d = f.Lookup("d");
        Assert.Equal(Errno.OK, f.Bridge.Lookup(Ctx(d), "x"u8, out var x)); // root knows x

        var recs = ReadAllPlus(f.Bridge, d, uid: 1000);
        Assert.Equal(0ul, recs.Single(r => r.Name == "x").Node);
        Assert.Equal(x.NodeId, ReadAllPlus(f.Bridge, d).Single(r => r.Name == "x").Node);
    });

    [Fact(Timeout = T)]
    public Task Init_AsksForHandleKillprivV2_AndNeverForTheWritebackCache() => Task.Run(() =>
    {
        using var f = new Fixture();
        var c = new FuseConnection { Want = FuseConnection.DefaultWant | InitFlags.WritebackCache };
        f.Bridge.Init(c);
        Assert.Equal(InitFlags.HandleKillprivV2, c.Want & InitFlags.HandleKillprivV2);
        Assert.Equal(InitFlags.None, c.Want & InitFlags.WritebackCache);
    });

    [Fact(Timeout = T)]
    public Task EmptySetattr_IsChownMinusOne_RefusedToANonOwnerWhoMayNotWrite() => Task.Run(() =>
    {
        using var f = new Fixture();
        Assert.Equal(Errno.OK, f.Root.WriteFile("s", "x"));
        Assert.Equal(Errno.OK, f.Root.Chmod("s", 0x9ED)); // 04755, root's
        ulong s = f.Lookup("s");
        Assert.Equal(Errno.EPERM, f.Bridge.Setattr(Ctx(s, 1000, 1000), new SetattrIn(), out _));
        Assert.Equal(Errno.OK, f.Root.Chmod("s", 0x9EF)); // 04757: others may write, so the drop before a write passes
        Assert.Equal(Errno.OK, f.Bridge.Setattr(Ctx(s, 1000, 1000), new SetattrIn(), out _));
        Assert.Equal(Errno.OK, f.Bridge.Setattr(Ctx(s), new SetattrIn(), out var attr)); // root's chown(s, -1, -1) drops S_ISUID
        Assert.Equal(0x1EFu, attr.Attr.Mode & 0xFFF);
    });
}
