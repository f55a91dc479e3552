namespace Hurd.Translators.Tests.Bridge;

using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

/// <summary>A bridge over tmpfs served by the SDK's serving layer (which has node references), with a root client on
/// the same tree to look behind the bridge's back.</summary>
internal sealed class ServedBridge : IDisposable
{
    public readonly TmpfsFileSystem Tmp = new();
    public readonly ServedFilesystem Fs;
    public readonly PosixClient Root;
    public readonly SendRight Control;
    public readonly FuseBridge Bridge;

    public ServedBridge(FuseBridgeOptions? options = null)
    {
        Fs = new ServedFilesystem(Tmp.Root, "tmpfs");
        Root = new PosixClient(Tmp.Root, Identity.Root);
        Control = Fs.Control.MakeSend();
        Assert.Equal(Errno.OK, FuseBridge.Connect(Control, options, out var b));
        Bridge = b!;
    }

    /// <summary>LOOKUP of <paramref name="name"/> in <paramref name="dir"/> as <paramref name="uid"/>; the node id.</summary>
    public ulong Lookup(ulong dir, string name, uint uid = 0)
    {
        Assert.Equal(Errno.OK, Bridge.Lookup(BridgeFixture.Ctx(dir, uid, uid), Encoding.UTF8.GetBytes(name), out var e));
        return e.NodeId;
    }

    public void Dispose()
    {
        Bridge.Dispose();
        Control.Dispose();
        Fs.Dispose();
    }
}
