namespace Hurd.Translators.Tests.Bridge;

using System.Runtime.InteropServices;
using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;
using FuseDirentWriter = Hurd.Fuse.DirentWriter;

/// <summary>
/// Node references (fs_ext noderef_*): the serving layer names nodes for the holder of a port without making ports, and
/// the bridge uses them for root's LOOKUP, MKDIR, CREATE, UNLINK, RMDIR, GETATTR, OPEN and READDIRPLUS entries on its own
/// filesystem. The lookup counts, the semantics (an unlinked file stays usable while the kernel holds it, other callers'
/// permissions) and the references' lifetime are those the ports had.
/// </summary>
public sealed class NodeReferenceTests
{
    private const int T = 60_000;

    private static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0) => BridgeFixture.Ctx(node, uid, gid);

    [Fact(Timeout = T)]
    public Task Lookup_ByRoot_MakesNoPort_AndForgetDropsTheReference() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        int ports = f.Fs.ProtidPortCount;
        ulong a = f.Lookup(1, "a");
        Assert.True(f.Fs.ProtidPortCount <= ports); // a port would be counted at once (and destroyed only later)
        Assert.Equal(1, f.Fs.NodeRefCount);
        Assert.Equal(a, f.Lookup(1, "a")); // the same node, +1: the second reference is given back
        Assert.Equal(1, f.Fs.NodeRefCount);
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(a), new GetattrIn(), out var attr));
        Assert.Equal(4ul, attr.Attr.Size);
        Assert.Equal(Errno.ENOENT, f.Bridge.Lookup(Ctx(1), "missing"u8, out _));
        f.Bridge.Forget(a, 1);
        Assert.Equal(1, f.Fs.NodeRefCount);
        f.Bridge.Forget(a, 1);
        Assert.Equal(0, f.Fs.NodeRefCount);
        Assert.Equal(1, f.Bridge.NodeCount);
    });

    [Fact(Timeout = T)]
    public Task CreateMkdirUnlinkRmdir_ByRoot_GoThroughReferences() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        Assert.Equal(Errno.OK, f.Bridge.Mkdir(Ctx(1), "d"u8, new MkdirIn { Mode = 0x1ED }, out var d));
        Assert.Equal(Errno.EEXIST, f.Bridge.Mkdir(Ctx(1), "d"u8, new MkdirIn { Mode = 0x1ED }, out _));
        Assert.Equal(Errno.OK, f.Bridge.Access(Ctx(d.NodeId), 7)); // root: a directory is always readable, writable, searchable
        Assert.Equal(Errno.EACCES, f.Bridge.Access(Ctx(d.NodeId, 1000, 1000), 2)); // 0755 root's
        var create = new CreateIn { Flags = OpenFlagsLinux.O_WRONLY | OpenFlagsLinux.O_CREAT | OpenFlagsLinux.O_EXCL, Mode = 0x8100 };
        Assert.Equal(Errno.OK, f.Bridge.Create(Ctx(d.NodeId), "g"u8, create, out var g, out var open));
        Assert.Equal(Errno.EEXIST, f.Bridge.Create(Ctx(d.NodeId), "g"u8, create, out _, out _));
        // Mode 0400 and O_WRONLY: the file this CREATE made is writable through its handle all the same.
        Assert.Equal(Errno.OK, f.Bridge.Write(Ctx(g.NodeId), new WriteIn { Fh = open.Fh, Size = 5 }, "hello"u8, out uint w));
        Assert.Equal(5u, w);
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(g.NodeId), new ReleaseIn { Fh = open.Fh }));
        Assert.Equal("hello", f.Root.ReadText("d/g"));
        Assert.Equal(Errno.OK, f.Root.Stat("d/g", out var st));
        Assert.Equal(0x100u, (uint)st.Mode & 0xFFF);
        Assert.Equal(2, f.Fs.NodeRefCount);

        var mknod = new MknodIn { Mode = 0x81A4 };
        Assert.Equal(Errno.OK, f.Bridge.Mknod(Ctx(d.NodeId), "h"u8, mknod, out var h));
        Assert.Equal(Errno.EEXIST, f.Bridge.Mknod(Ctx(d.NodeId), "h"u8, mknod, out _));
        Assert.Equal(Errno.ENOTEMPTY, f.Bridge.Rmdir(Ctx(1), "d"u8));
        Assert.Equal(Errno.OK, f.Bridge.Unlink(Ctx(d.NodeId), "g"u8));
        Assert.Equal(Errno.OK, f.Bridge.Unlink(Ctx(d.NodeId), "h"u8));
        Assert.Equal(Errno.ENOENT, f.Bridge.Unlink(Ctx(d.NodeId), "g"u8));
        Assert.Equal(Errno.OK, f.Bridge.Rmdir(Ctx(1), "d"u8));
        Assert.Equal(Errno.ENOENT, f.Root.Stat("d", out _));
        foreach (var n in new[] { d.NodeId, g.NodeId, h.NodeId }) f.Bridge.Forget(n, 1);
        Assert.Equal(0, f.Fs.NodeRefCount);
    });

    [Fact(Timeout = T)]
    public Task UnlinkedFile_StaysUsable_WhileTheKernelHoldsItsNode() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "kept"));
        ulong a = f.Lookup(1, "a");
        Assert.Equal(Errno.OK, f.Bridge.Unlink(Ctx(1), "a"u8));
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(a), new GetattrIn(), out var attr));
        Assert.Equal(0u, attr.Attr.Nlink);
        Assert.Equal(Errno.OK, f.Bridge.Open(Ctx(a), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
        var buf = new byte[16];
        Assert.Equal(Errno.OK, f.Bridge.Read(Ctx(a), new ReadIn { Fh = o.Fh, Size = 16 }, buf, out int n));
        Assert.Equal("kept", Encoding.UTF8.GetString(buf, 0, n));
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(a), new ReleaseIn { Fh = o.Fh }));
        f.Bridge.Forget(a, 1);
        Assert.Equal(0, f.Fs.NodeRefCount);
    });

    [Fact(Timeout = T)]
    public Task OtherCallers_OnNodesRootEnteredByReference_GetTheirOwnPermissions() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        Assert.Equal(Errno.OK, f.Root.WriteFile("secret", "s"));
        Assert.Equal(Errno.OK, f.Root.Chmod("secret", 0x180)); // 0600 root's
        Assert.Equal(Errno.OK, f.Root.WriteFile("pub", "p"));
        ulong secret = f.Lookup(1, "secret");
        ulong pub = f.Lookup(1, "pub");
        Assert.Equal(Errno.EACCES, f.Bridge.Open(Ctx(secret, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out _));
        Assert.Equal(Errno.OK, f.Bridge.Open(Ctx(pub, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(pub), new ReleaseIn { Fh = o.Fh }));
        Assert.Equal(Errno.EACCES, f.Bridge.Open(Ctx(pub, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_WRONLY }, out _));
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(secret, 1000, 1000), new GetattrIn(), out var attr));
        Assert.Equal(0x8180u, attr.Attr.Mode);
        Assert.Equal(Errno.EACCES, f.Bridge.Access(Ctx(secret, 1000, 1000), 4));
        Assert.Equal(Errno.OK, f.Bridge.Access(Ctx(secret), 4));
    });

    [Fact(Timeout = T)]
    public Task AnotherCallersLookup_OfANewNode_NamesItByReference_AndKeepsTheCallersPort() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        Assert.Equal(Errno.OK, f.Root.WriteFile("pub", "p"));
        Assert.Equal(Errno.OK, f.Root.WriteFile("secret", "s"));
        Assert.Equal(Errno.OK, f.Root.Chmod("secret", 0x180));
        ulong pub = f.Lookup(1, "pub", uid: 1000);
        Assert.Equal(1, f.Fs.NodeRefCount); // the node's uid-0 side is a reference, not a second port
        int identityPorts = f.Bridge.IdentityPortCount;
        Assert.Equal(Errno.OK, f.Bridge.Open(Ctx(pub, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
        Assert.Equal(identityPorts, f.Bridge.IdentityPortCount); // the lookup's own port serves the caller's open
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(pub), new ReleaseIn { Fh = o.Fh }));
        Assert.Equal(Errno.OK, f.Bridge.Getattr(Ctx(pub), new GetattrIn(), out var attr));
        Assert.Equal(1ul, attr.Attr.Size);
        ulong secret = f.Lookup(1, "secret", uid: 1000);
        Assert.Equal(Errno.EACCES, f.Bridge.Open(Ctx(secret, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out _));
        Assert.Equal(Errno.ENOENT, f.Bridge.Lookup(Ctx(1, 1000, 1000), "missing"u8, out _));
        f.Bridge.Forget(pub, 1);
        f.Bridge.Forget(secret, 1);
        Assert.Equal(0, f.Fs.NodeRefCount);
        Assert.Equal(1, f.Bridge.NodeCount);
    });

    [Fact(Timeout = T)]
    public Task Readdirplus_ByRoot_EntersEveryEntryByReference_AndCountsIt() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        for (int i = 0; i < 20; i++) Assert.Equal(Errno.OK, f.Root.WriteFile($"file{i:D2}", "x"));
        ulong known = f.Lookup(1, "file05");
        var nodes = ReadAllPlus(f.Bridge, 1);
        Assert.Equal(22, nodes.Count);
        Assert.Equal(known, nodes["file05"]);
        Assert.Equal(20, f.Fs.NodeRefCount);
        // A second listing: every file is known, their stats come in one noderef_stat_many per chunk, and each entry
        // counts once more. One of them is unlinked meanwhile (behind the bridge): it is no longer listed.
        Assert.Equal(Errno.OK, f.Root.Unlink("file07"));
        var again = ReadAllPlus(f.Bridge, 1);
        Assert.Equal(21, again.Count);
        foreach (var (name, node) in again) if (name is not ("." or "..")) Assert.Equal(nodes[name], node);
        f.Bridge.Forget(nodes["file07"], 1);
        for (int i = 0; i < 20; i++) if (i != 7) f.Bridge.Forget(nodes[$"file{i:D2}"], 1);
        for (int i = 0; i < 20; i++) Assert.NotEqual(0ul, nodes[$"file{i:D2}"]);
        // One lookup count per entry (and file05 had one more): forgetting those empties the table.
        f.Bridge.Forget(known, 1);
        for (int i = 0; i < 20; i++) f.Bridge.Forget(nodes[$"file{i:D2}"], 1);
        Assert.Equal(1, f.Bridge.NodeCount);
        Assert.Equal(0, f.Fs.NodeRefCount);
    });

    private static Dictionary<string, ulong> ReadAllPlus(FuseBridge bridge, ulong dir)
    {
        Assert.Equal(Errno.OK, bridge.Opendir(Ctx(dir), new OpenIn(), out var od));
        var buf = new byte[64 * 1024];
        var w = new FuseDirentWriter(buf, plus: true);
        Assert.Equal(Errno.OK, bridge.Readdirplus(Ctx(dir), new ReadIn { Fh = od.Fh, Size = (uint)buf.Length }, ref w));
        var nodes = new Dictionary<string, ulong>();
        int pos = 0;
        while (pos < w.Length)
        {
            ulong node = MemoryMarshal.Read<EntryOut>(buf.AsSpan(pos)).NodeId;
            pos += Marshal.SizeOf<EntryOut>();
            var d = MemoryMarshal.Read<FuseDirent>(buf.AsSpan(pos));
            nodes[Encoding.UTF8.GetString(buf, pos + 24, (int)d.Namelen)] = node;
            pos += (24 + (int)d.Namelen + 7) & ~7;
        }
        Assert.Equal(Errno.OK, bridge.Releasedir(Ctx(dir), new ReleaseIn { Fh = od.Fh }));
        return nodes;
    }

    [Fact(Timeout = T)]
    public async Task ConcurrentRequests_OfSeveralIdentities_LeaveNoReferenceBehind()
    {
        using var f = new ServedBridge(new FuseBridgeOptions { MaxIdentityPorts = 2 });
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        Assert.Equal(Errno.OK, f.Root.Link("a", "b"));
        Assert.Equal(Errno.OK, f.Root.Mkdir("d", 0x1FF));
        ulong d = f.Lookup(1, "d");
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var rnd = new Random(w);
            var mine = Encoding.ASCII.GetBytes($"w{w}");
            for (int i = 0; i < 400; i++)
            {
                BridgeFixture.LookupStatForget(f.Bridge, rnd, errors);
                // A file of this worker's own, made, opened, removed and forgotten by root.
                var e = f.Bridge.Create(Ctx(d), mine, new CreateIn { Flags = OpenFlagsLinux.O_RDWR | OpenFlagsLinux.O_CREAT, Mode = 0x81A4 },
                    out var c, out var o);
                if (e != Errno.OK) { errors.Add($"create {e}"); continue; }
                f.Bridge.Release(Ctx(c.NodeId), new ReleaseIn { Fh = o.Fh });
                if ((e = f.Bridge.Unlink(Ctx(d), mine)) != Errno.OK) errors.Add($"unlink {e}");
                if ((e = f.Bridge.Getattr(Ctx(c.NodeId), default, out var gone)) != Errno.OK) errors.Add($"getattr unlinked {e}");
                else if (gone.Attr.Nlink != 0) errors.Add($"nlink {gone.Attr.Nlink}");
                f.Bridge.Forget(c.NodeId, 1);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        Assert.Empty(errors);
        f.Bridge.Forget(d, 1);
        Assert.Equal(1, f.Bridge.NodeCount);
        Assert.Equal(0, f.Fs.NodeRefCount);
    }

    [Fact(Timeout = T)]
    public Task NodeReferencesOff_TheBridgeUsesPorts() => Task.Run(() =>
    {
        using var f = new ServedBridge(new FuseBridgeOptions { NodeReferences = false });
        Assert.Equal(Errno.OK, f.Root.WriteFile("a", "data"));
        int ports = f.Fs.ProtidPortCount;
        ulong a = f.Lookup(1, "a");
        Assert.Equal(0, f.Fs.NodeRefCount);
        Assert.True(f.Fs.ProtidPortCount > ports);
        f.Bridge.Forget(a, 1);
    });

    [Fact(Timeout = T)]
    public async Task NodeReferences_DieWithTheirPort()
    {
        await Task.Yield();
        var tmp = new TmpfsFileSystem();
        var root = new PosixClient(tmp.Root, Identity.Root);
        Assert.Equal(Errno.OK, root.WriteFile("a", "data"));
        Assert.Equal(Errno.OK, root.Mkdir("d", 0x1ED));
        using var fs = new ServedFilesystem(tmp.Root, "tmpfs");
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.None, out var session));
        var ext = new FsExtClient(session!);
        Assert.Equal(Errno.OK, ext.noderef_lookup(0, "d"u8, OpenFlags.NoLink, 0, false, out bool retry, out ulong d, out var st, out _));
        Assert.False(retry);
        Assert.True(st.Mode.IsDirectory());
        Assert.Equal(Errno.OK, ext.noderef_lookup(d, "../a"u8, OpenFlags.NoLink, 0, false, out retry, out ulong a, out st, out _));
        Assert.Equal(4, st.Size);
        Assert.Equal(Errno.OK, ext.noderef_stat(a, out st));
        var many = new byte[3 * System.Runtime.CompilerServices.Unsafe.SizeOf<Stat>()];
        var refs = new byte[24];
        BitConverter.TryWriteBytes(refs.AsSpan(0), d);
        BitConverter.TryWriteBytes(refs.AsSpan(8), 999ul); // unknown: all zero
        BitConverter.TryWriteBytes(refs.AsSpan(16), a);
        Assert.Equal(Errno.OK, ext.noderef_stat_many(refs, many, out int got));
        Assert.Equal(many.Length, got);
        var stats = MemoryMarshal.Cast<byte, Stat>(many);
        Assert.True(stats[0].Mode.IsDirectory());
        Assert.Equal(0ul, stats[1].Ino);
        Assert.Equal(4, stats[2].Size);
        Assert.Equal(Errno.OK, ext.noderef_mkdir(d, "e"u8, (FileMode)0x1ED, out ulong e, out st));
        Assert.True(st.Mode.IsDirectory());
        Assert.Equal(Errno.OK, ext.noderef_open(a, OpenFlags.Read, out var port));
        using (var opened = SendRight.FromName(port))
        {
            var buf = new byte[8];
            Assert.Equal(Errno.OK, new IoClient(opened!).io_read(buf, out int n, 0, 8));
            Assert.Equal("data", Encoding.UTF8.GetString(buf, 0, n));
        }
        Assert.Equal(Errno.ENOTDIR, ext.noderef_open(a, OpenFlags.Read | OpenFlags.Directory, out _));
        Assert.Equal(Errno.ENODATA, ext.noderef_get_xattr(d, "system.posix_acl_default"u8, 0, default, out _, out _));
        Assert.Equal(Errno.OK, root.Setxattr("d", "user.k", "v"u8.ToArray()));
        Assert.Equal(Errno.OK, ext.noderef_get_xattr(d, "user.k"u8, 0, default, out _, out int xlen));
        Assert.Equal(1, xlen);
        Assert.Equal(Errno.OK, ext.noderef_unlink(d, "e"u8, true));
        Assert.Equal(3, fs.NodeRefCount);
        Assert.Equal(Errno.OK, ext.noderef_release(e));
        Assert.Equal(Errno.ESTALE, ext.noderef_stat(e, out _));
        Assert.Equal(Errno.ESTALE, ext.noderef_release(e));
        Assert.Equal(2, fs.NodeRefCount);
        session!.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (fs.NodeRefCount != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, fs.NodeRefCount);
    }
}
