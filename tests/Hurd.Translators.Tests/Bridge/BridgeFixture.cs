namespace Hurd.Translators.Tests.Bridge;

using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Fuse;

/// <summary>A FUSE bridge over tmpfs nodes served by <see cref="MiniFs"/>, for calling the bridge's FUSE methods
/// directly (no mount) with synthetic request contexts. Test classes derive their fixtures from it.</summary>
internal class BridgeFixture : IDisposable
{
    public readonly TmpfsFileSystem Tmp = new();
    public readonly MiniFs Fs;
    public readonly PosixClient Root;
    public readonly Hurd.Ipc.Ports.SendRight Control;
    public readonly FuseBridge Bridge;

    public BridgeFixture(FuseBridgeOptions? options = null)
    {
        Fs = new MiniFs(Tmp.Root);
        Root = new PosixClient(Tmp.Root, Identity.Root);
        Control = Fs.MakeControl();
        Assert.Equal(Errno.OK, FuseBridge.Connect(Control, options, out var b));
        Bridge = b!;
    }

    public void Dispose()
    {
        Bridge.Dispose();
        Control.Dispose();
        Fs.Dispose();
    }

    private sealed class Header { public FuseInHeader H; }

    /// <summary>One step of the concurrent-identities stress tests: a random one of root, uid 1000 and uid 2000 looks up
    /// "a" or "b" in the root (hard links to one 4-byte file), another stats it, and the entry is forgotten; anything
    /// unexpected goes to <paramref name="errors"/>.</summary>
    public static void LookupStatForget(FuseBridge bridge, Random rnd, System.Collections.Concurrent.ConcurrentBag<string> errors)
    {
        uint uid = (uint)rnd.Next(3) * 1000; // root, 1000, 2000
        var e = bridge.Lookup(Ctx(1, uid, uid), rnd.Next(2) == 0 ? "a"u8 : "b"u8, out var entry);
        if (e != Errno.OK) { errors.Add($"lookup {e}"); return; }
        e = bridge.Getattr(Ctx(entry.NodeId, (uint)rnd.Next(3) * 1000, 0), default, out var attr);
        if (e != Errno.OK) errors.Add($"getattr {e}");
        else if (attr.Attr.Size != 4) errors.Add($"size {attr.Attr.Size}");
        bridge.Forget(entry.NodeId, 1);
    }

    /// <summary>A request context for <paramref name="node"/> from the given caller (a heap box: the context may outlive
    /// the caller's frame, e.g. with a ref DirentWriter).</summary>
    public static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0)
    {
        var box = new Header { H = new FuseInHeader { NodeId = node, Uid = uid, Gid = gid, Pid = 0, Unique = 2 } };
        return new FuseContext(in box.H, default, false, default);
    }
}
