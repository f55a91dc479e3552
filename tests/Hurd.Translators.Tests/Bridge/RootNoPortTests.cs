namespace Hurd.Translators.Tests.Bridge;

using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

/// <summary>
/// Root's GETXATTR on a node entered by reference goes through noderef_get_xattr, and root's SETATTR without a handle
/// (fchown, fchmod, futimens) on a node root holds open goes through that handle's port: what an untar sends for each file
/// (CREATE, GETXATTR "security.capability", SETATTR x3, RELEASE) makes no port beyond the handle. Other callers keep
/// their own ports and permissions.
/// </summary>
public sealed class RootNoPortTests
{
    private const int T = 60_000;

    private static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0) => BridgeFixture.Ctx(node, uid, gid);

    [Fact(Timeout = T)]
    public Task UntarSequence_ByRoot_MakesNoPortBeyondTheHandle() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        var create = new CreateIn { Flags = OpenFlagsLinux.O_WRONLY | OpenFlagsLinux.O_CREAT | OpenFlagsLinux.O_EXCL, Mode = 0x8180 };
        Assert.Equal(Errno.OK, f.Bridge.Create(Ctx(1), "f"u8, create, out var e, out var open));
        int ports = f.Fs.ProtidPortCount; // the handle's
        Assert.Equal(Errno.ENODATA, f.Bridge.Getxattr(Ctx(e.NodeId), "security.capability"u8, default, out _));
        Assert.Equal(Errno.OK, f.Bridge.Write(Ctx(e.NodeId), new WriteIn { Fh = open.Fh, Size = 4 }, "data"u8, out _));
        var mtime = new SetattrIn { Valid = SetattrValid.Mtime, Mtime = 1714348800 };
        Assert.Equal(Errno.OK, f.Bridge.Setattr(Ctx(e.NodeId), mtime, out var a1));
        Assert.Equal(1714348800ul, a1.Attr.Mtime);
        Assert.Equal(Errno.ENODATA, f.Bridge.Getxattr(Ctx(e.NodeId), "security.capability"u8, default, out _));
        Assert.Equal(Errno.OK, f.Bridge.Setattr(Ctx(e.NodeId), new SetattrIn { Valid = SetattrValid.Uid | SetattrValid.Gid, Uid = 7, Gid = 8 }, out var a2));
        Assert.Equal((7u, 8u), (a2.Attr.Uid, a2.Attr.Gid));
        Assert.Equal(Errno.OK, f.Bridge.Setattr(Ctx(e.NodeId), new SetattrIn { Valid = SetattrValid.Mode, Mode = 0x81A4 }, out var a3));
        Assert.Equal(0x1A4u, a3.Attr.Mode & 0xFFF);
        Assert.Equal(ports, f.Fs.ProtidPortCount);
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(e.NodeId), new ReleaseIn { Fh = open.Fh }));

        Assert.Equal(Errno.OK, f.Root.Stat("f", out var st));
        Assert.Equal((7u, 8u, 0x1A4u, 4L), (st.Uid, st.Gid, (uint)st.Mode & 0xFFF, st.Size));
        Assert.Equal(1714348800L, st.Mtime.Sec);

        // A present xattr through the reference, its size asked first as getfattr does.
        Assert.Equal(Errno.OK, f.Root.Setxattr("f", "user.k", "value"u8.ToArray()));
        Assert.Equal(Errno.OK, f.Bridge.Getxattr(Ctx(e.NodeId), "user.k"u8, default, out int size));
        Assert.Equal(5, size);
        var buf = new byte[size];
        Assert.Equal(Errno.OK, f.Bridge.Getxattr(Ctx(e.NodeId), "user.k"u8, buf, out size));
        Assert.Equal("value", Encoding.UTF8.GetString(buf, 0, size));
        Assert.Equal(Errno.ERANGE, f.Bridge.Getxattr(Ctx(e.NodeId), "user.k"u8, new byte[2], out _));

        // With the handle closed, root's SETATTR makes the node's port as before, and works.
        Assert.Equal(Errno.OK, f.Bridge.Setattr(Ctx(e.NodeId), new SetattrIn { Valid = SetattrValid.Mode, Mode = 0x8180 }, out var a4));
        Assert.Equal(0x180u, a4.Attr.Mode & 0xFFF);
        f.Bridge.Forget(e.NodeId, 1);
        Assert.Equal(0, f.Fs.NodeRefCount);
    });

    [Fact(Timeout = T)]
    public Task RevalidatingLookups_CountOnTheReferenceHeld() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        Assert.Equal(Errno.OK, f.Root.Mkdir("d"));
        Assert.Equal(Errno.OK, f.Bridge.Lookup(Ctx(1), "d"u8, out var first));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Errno.OK, f.Bridge.Lookup(Ctx(1), "d"u8, out var again));
            Assert.Equal(first.NodeId, again.NodeId);
            Assert.Equal(1, f.Fs.NodeRefCount);
        }
        // Renamed away and replaced: the name reaches another node, with a reference of its own.
        Assert.Equal(Errno.OK, f.Root.Rename("d", "e"));
        Assert.Equal(Errno.OK, f.Root.Mkdir("d"));
        Assert.Equal(Errno.OK, f.Bridge.Lookup(Ctx(1), "d"u8, out var other));
        Assert.NotEqual(first.NodeId, other.NodeId);
        Assert.Equal(2, f.Fs.NodeRefCount);
        f.Bridge.Forget(other.NodeId, 1);
        f.Bridge.Forget(first.NodeId, 4);
        Assert.Equal(1, f.Fs.NodeRefCount);
        Assert.Equal(Errno.OK, f.Bridge.Lookup(Ctx(1), "e"u8, out var e));
        Assert.Equal(first.NodeId, e.NodeId);
        f.Bridge.Forget(first.NodeId, 2);
        Assert.Equal(0, f.Fs.NodeRefCount);
        Assert.Equal(1, f.Bridge.NodeCount);
    });

    [Fact(Timeout = T)]
    public Task OtherCallers_DoNotUseRootsHandle() => Task.Run(() =>
    {
        using var f = new ServedBridge();
        var create = new CreateIn { Flags = OpenFlagsLinux.O_WRONLY | OpenFlagsLinux.O_CREAT | OpenFlagsLinux.O_EXCL, Mode = 0x81A4 };
        Assert.Equal(Errno.OK, f.Bridge.Create(Ctx(1), "f"u8, create, out var e, out var open));
        // Root holds the file open: a user who does not own it still may not change it, nor read a trusted. name.
        Assert.Equal(Errno.EPERM, f.Bridge.Setattr(Ctx(e.NodeId, 1000, 1000), new SetattrIn { Valid = SetattrValid.Mode, Mode = 0x81FF }, out _));
        Assert.Equal(Errno.EPERM, f.Bridge.Setattr(Ctx(e.NodeId, 1000, 1000), new SetattrIn { Valid = SetattrValid.Uid, Uid = 1000 }, out _));
        Assert.Equal(Errno.EPERM, f.Bridge.Setattr(Ctx(e.NodeId, 1000, 1000), new SetattrIn { Valid = SetattrValid.Mtime, Mtime = 5 }, out _));
        Assert.Equal(Errno.OK, f.Root.Setxattr("f", "trusted.t", "x"u8.ToArray()));
        Assert.Equal(Errno.ENODATA, f.Bridge.Getxattr(Ctx(e.NodeId, 1000, 1000), "trusted.t"u8, default, out _));
        Assert.Equal(Errno.OK, f.Bridge.Getxattr(Ctx(e.NodeId), "trusted.t"u8, default, out int size));
        Assert.Equal(1, size);
        Assert.Equal(Errno.OK, f.Root.Stat("f", out var st));
        Assert.Equal((0u, 0x1A4u), (st.Uid, (uint)st.Mode & 0xFFF));
        Assert.Equal(Errno.OK, f.Bridge.Release(Ctx(e.NodeId), new ReleaseIn { Fh = open.Fh }));
        f.Bridge.Forget(e.NodeId, 1);
        Assert.Equal(0, f.Fs.NodeRefCount);
    });
}
