using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Hosting;

/// <summary>
/// Runs a daemon's hot paths (FUSE bridge → serving layer → the translator's nodes: lookup, create, write, read,
/// utimens, getxattr, chown, release, getattr, chmod, access, open, mkdir, opendir, readdir, readdirplus, unlink,
/// rmdir) a few hundred times, and the rarer ones (symlink, link, rename, fsync, fallocate, lseek, xattrs, statfs,
/// mknod) a few times, on
/// a throwaway filesystem before the real one is served, so that the JIT has compiled them before the first client
/// call rather than during it. Worth it for a daemon compiled optimized at first call (TieredCompilationQuickJit
/// false, as tmpfs and ext2fs are): measured on a fresh ext2fs daemon, the first 2,000 creates through FUSE took
/// 0.17-0.29 s against 0.11-0.20 s for the next 2,000. The real filesystem is never touched; any failure here is
/// ignored (it only costs the warm-up).
/// </summary>
public static class BridgeWarmUp
{
    const int Rounds = 150;

    /// <summary>Makes a throwaway filesystem with <paramref name="makeRoot"/> (its root, or null to skip the warm-up, and
    /// what to dispose after), runs the warm-up on it on a background thread and waits at most 3 s: whatever happens
    /// to it, serving starts.</summary>
    public static void Run(string name, Func<(Node? Root, IDisposable? Owner)> makeRoot)
    {
        var t = new Thread(() =>
        {
            try
            {
                var (root, owner) = makeRoot();
                using (owner) if (root is not null) RunOnce(name, root);
            }
            catch (Exception e) when (e is not OutOfMemoryException) { /* warm-up only */ }
        }) { IsBackground = true, Name = name + " warm-up" };
        t.Start();
        t.Join(TimeSpan.FromSeconds(3));
    }

    static void RunOnce(string name, Node root)
    {
        using var served = new ServedFilesystem(root, name + "-warm-up");
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
            Span<byte> entry = stackalloc byte[5];
            for (int i = 0; i < Rounds; i++)
            {
                Name(entry, 'f', i);
                bridge.Lookup(new FuseContext(Hd(ref unique, dir), default, false, default), entry, out _);
                if (bridge.Create(new FuseContext(Hd(ref unique, dir), default, false, default), entry, new CreateIn { Flags = 0xC1, Mode = 0x81A4 }, out var ent, out var open) != Errno.OK) return;
                bridge.Write(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new WriteIn { Fh = open.Fh, Size = (uint)data.Length }, data, out _);
                bridge.Read(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReadIn { Fh = open.Fh, Size = 4096 }, data.AsSpan(0, 4096), out _);
                // What tar does after writing a file: futimens, fchown (the kernel asks for security.capability first), fchmod.
                bridge.Setattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default),
                    new SetattrIn { Valid = SetattrValid.Fh | SetattrValid.Mtime | SetattrValid.AtimeNow, Fh = open.Fh, Mtime = 1_000_000_000 }, out _);
                bridge.Getxattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), "security.capability"u8, default, out _);
                bridge.Setattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default),
                    new SetattrIn { Valid = SetattrValid.Fh | SetattrValid.Uid | SetattrValid.Gid, Fh = open.Fh }, out _);
                bridge.Release(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReleaseIn { Fh = open.Fh });
                bridge.Getattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new GetattrIn(), out _);
                bridge.Setattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new SetattrIn { Valid = SetattrValid.Mode, Mode = 0x81A4 }, out _);
                bridge.Access(new FuseContext(Hd(ref unique, dir), default, false, default), 1);
                if (bridge.Open(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new OpenIn(), out var ro) == Errno.OK)
                    bridge.Release(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReleaseIn { Fh = ro.Fh });
                Name(entry, 'g', i);
                bridge.Lookup(new FuseContext(Hd(ref unique, dir), default, false, default), entry, out _);
                bridge.Mkdir(new FuseContext(Hd(ref unique, dir), default, false, default), entry, new MkdirIn { Mode = 0x1ED }, out _);
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
            Rare(bridge, ref unique, dir, data);
            for (int i = 0; i < Rounds; i++)
            {
                Name(entry, 'f', i);
                bridge.Unlink(new FuseContext(Hd(ref unique, dir), default, false, default), entry);
                Name(entry, 'g', i);
                bridge.Rmdir(new FuseContext(Hd(ref unique, dir), default, false, default), entry);
            }
        }
    }

    /// <summary>The operations a workload meets once in a while (tar's symlinks and hard links, an editor's rename,
    /// fsync, fallocate, SEEK_DATA, xattrs, df, mknod): a few rounds each, enough for the JIT, which otherwise compiles
    /// each path (5-20 ms: a first symlink during an untar took 17.7 ms against 0.08 ms for the next) inside a client's
    /// call.</summary>
    static void Rare(FuseBridge bridge, ref ulong unique, ulong dir, byte[] data)
    {
        Span<byte> target = stackalloc byte[64];
        for (int i = 0; i < 3; i++)
        {
            byte[] f = [(byte)'r', (byte)('0' + i)];
            byte[] s = [(byte)'s', (byte)('0' + i)];
            byte[] l = [(byte)'l', (byte)('0' + i)];
            byte[] m = [(byte)'m', (byte)('0' + i)];
            byte[] n = [(byte)'n', (byte)('0' + i)];
            if (bridge.Create(new FuseContext(Hd(ref unique, dir), default, false, default), f, new CreateIn { Flags = 0xC2, Mode = 0x81A4 }, out var ent, out var open) != Errno.OK) return;
            bridge.Write(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new WriteIn { Fh = open.Fh, Size = (uint)data.Length }, data, out _);
            bridge.Fallocate(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new FallocateIn { Fh = open.Fh, Offset = 65536, Length = 8192 });
            bridge.Lseek(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new LseekIn { Fh = open.Fh, Offset = 0, Whence = 3 }, out _);
            bridge.Fsync(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new FsyncIn { Fh = open.Fh, FsyncFlags = (uint)(i & 1) });
            bridge.Setxattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), "user.w"u8, "v"u8, new SetxattrIn { Size = 1 });
            bridge.Listxattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), data, out _);
            bridge.Removexattr(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), "user.w"u8);
            bridge.Release(new FuseContext(Hd(ref unique, ent.NodeId), default, false, default), new ReleaseIn { Fh = open.Fh });
            if (bridge.Symlink(new FuseContext(Hd(ref unique, dir), default, false, default), s, f, out var se) == Errno.OK)
                bridge.Readlink(new FuseContext(Hd(ref unique, se.NodeId), default, false, default), target, out _);
            bridge.Link(new FuseContext(Hd(ref unique, dir), default, false, default), ent.NodeId, l, out _);
            bridge.Rename(new FuseContext(Hd(ref unique, dir), default, false, default), l, dir, m, default);
            bridge.Mknod(new FuseContext(Hd(ref unique, dir), default, false, default), n, new MknodIn { Mode = 0x11A4 }, out _);
            bridge.Statfs(new FuseContext(Hd(ref unique, dir), default, false, default), out _);
            foreach (var name in (byte[][])[f, s, m, n])
                bridge.Unlink(new FuseContext(Hd(ref unique, dir), default, false, default), name);
        }
    }

    static void Name(Span<byte> entry, char first, int i)
    {
        entry[0] = (byte)first;
        entry[1] = (byte)('0' + i / 1000 % 10); entry[2] = (byte)('0' + i / 100 % 10);
        entry[3] = (byte)('0' + i / 10 % 10); entry[4] = (byte)('0' + i % 10);
    }

    sealed class HeaderBox { public FuseInHeader H; }

    static FuseInHeader Hd(ref ulong unique, ulong node) =>
        new() { Unique = unique += 2, NodeId = node, Uid = 0, Gid = 0, Pid = 1 };
}
