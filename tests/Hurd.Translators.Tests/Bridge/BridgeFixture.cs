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

    /// <summary>A request context for <paramref name="node"/> from the given caller (a heap box: the context may outlive
    /// the caller's frame, e.g. with a ref DirentWriter).</summary>
    public static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0)
    {
        var box = new Header { H = new FuseInHeader { NodeId = node, Uid = uid, Gid = gid, Pid = 0, Unique = 2 } };
        return new FuseContext(in box.H, default, false, default);
    }
}
