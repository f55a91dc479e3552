using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

namespace Hurd.Tmpfs.Daemon;

/// <summary>
/// Runs the daemon's hot paths (FUSE bridge → serving layer → tmpfs nodes: lookup, create, write, read, release,
/// getattr, setattr, access, mkdir, opendir, readdir, readdirplus, unlink, rmdir) a few hundred times on a throwaway
/// tmpfs before the real one is served, so that the JIT has compiled them before the first client call rather than
/// during it (the daemon is compiled optimized at first call: see the project file), as the ext2fs daemon does. Any
/// failure here is ignored: it only costs the warm-up.
/// </summary>
static class WarmUp
{
    const int Rounds = 150;

    /// <summary>Runs the warm-up on a background thread and waits for it at most 3 s: whatever happens to it, serving starts.</summary>
    public static void Run()
    {
        var t = new Thread(() =>
        {
            try { RunOnce(); }
            catch (Exception e) when (e is not OutOfMemoryException) { /* warm-up only */ }
        }) { IsBackground = true, Name = "tmpfs warm-up" };
        t.Start();
        t.Join(TimeSpan.FromSeconds(3));
    }

    static void RunOnce()
    {
        var fs = new TmpfsFileSystem(TmpfsOptions.Default);
        using var served = new ServedFilesystem(fs.Root, "tmpfs-warm-up");
        using var control = served.Control.MakeSend();
        if (FuseBridge.Connect(control, new FuseBridgeOptions(), out var bridge) != Errno.OK) return;
        using (bridge)
        {
            ulong unique = 2;
            var data = new byte[8192];
            var list = new byte[32 * 1024];
            var hd = new HeaderBox(); // a heap box: a context over it may go with the ref DirentWriter of readdir
            if (bridge!.Mkdir(new FuseContext(Hd(ref unique, 1), default, false, default), "d"u8, new MkdirIn { Mode = 0x1ED }, out var de) != Errno.OK) return;
            ulong dir = de.NodeId;
            Span<byte> name = stackalloc byte[5];
            for (int i = 0; i < Rounds; i++)
            {
                Name(name, 'f', i);
                bridge.Lookup(new FuseContext(Hd(ref unique, dir), default, false, default), name, out _);
                if (bridge.Create(new FuseContext(Hd(ref unique, dir), default, false, default), name, new CreateIn { Flags = 0xC1, Mode = 0x81A4 }, out var ent, out var open) != Errno.OK) return;
                bridge.Write(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new WriteIn { Fh = open.Fh, Size = (uint)data.Length }, data, out _);
                bridge.Read(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReadIn { Fh = open.Fh, Size = 4096 }, data.AsSpan(0, 4096), out _);
                bridge.Release(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReleaseIn { Fh = open.Fh });
                bridge.Getattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new GetattrIn(), out _);
                bridge.Setattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new SetattrIn { Valid = SetattrValid.Mode, Mode = 0x81A4 }, out _);
                bridge.Access(new FuseContext(Hd(ref unique, dir), default, false, default), 1);
                if (bridge.Open(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new OpenIn(), out var ro) == Errno.OK)
                    bridge.Release(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReleaseIn { Fh = ro.Fh });
                Name(name, 'g', i);
                bridge.Lookup(new FuseContext(Hd(ref unique, dir), default, false, default), name, out _);
                bridge.Mkdir(new FuseContext(Hd(ref unique, dir), default, false, default), name, new MkdirIn { Mode = 0x1ED }, out _);
                if (i % 15 == 0 && bridge.Opendir(new FuseContext(Hd(ref unique, dir), default, false, default), new OpenIn(), out var od) == Errno.OK)
                {
                    hd.H = Hd(ref unique, dir);
                    var plus = new DirentWriter(list, plus: true);
                    bridge.Readdirplus(new FuseContext(hd.H, default, false, default), new ReadIn { Fh = od.Fh, Size = (uint)list.Length }, ref plus);
                    hd.H = Hd(ref unique, dir);
                    var w = new DirentWriter(list, plus: false);
                    bridge.Readdir(new FuseContext(hd.H, default, false, default), new ReadIn { Fh = od.Fh, Size = (uint)list.Length }, ref w);
                    bridge.Releasedir(new FuseContext(Hd(ref unique, dir), default, false, default), new ReleaseIn { Fh = od.Fh });
                }
            }
            for (int i = 0; i < Rounds; i++)
            {
                Name(name, 'f', i);
                bridge.Unlink(new FuseContext(Hd(ref unique, dir), default, false, default), name);
                Name(name, 'g', i);
                bridge.Rmdir(new FuseContext(Hd(ref unique, dir), default, false, default), name);
            }
        }
    }

    static void Name(Span<byte> name, char first, int i)
    {
        name[0] = (byte)first;
        name[1] = (byte)('0' + i / 1000 % 10); name[2] = (byte)('0' + i / 100 % 10);
        name[3] = (byte)('0' + i / 10 % 10); name[4] = (byte)('0' + i % 10);
    }

    sealed class HeaderBox { public FuseInHeader H; }

    static FuseInHeader Hd(ref ulong unique, ulong node) =>
        new() { Unique = unique += 2, NodeId = node, Uid = 0, Gid = 0, Pid = 1 };
}
