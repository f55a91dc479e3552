using Hurd.Ipc.Abi;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>
/// The dispatch of a port that answers both fs and io, as every file and directory port (a
/// protid) does in the Hurd: fs ids go to <see cref="FsServer"/>, the rest to <see cref="IoServer"/>
/// (which answers MIG_BAD_ID for ids of neither).
/// <code>using var port = ReceivePort.Create(protid, FileServer.Dispatch&lt;MyProtid&gt;);</code>
/// </summary>
public static class FileServer
{
    /// <summary>Dispatches <paramref name="req"/> to the fs or io half of <paramref name="impl"/>, per the <see cref="RpcRequest"/> contract.</summary>
    public static Errno Dispatch<T>(T impl, ref RpcRequest req) where T : class, IFs, IIo
        => FsServer.Handles(req.Id) ? FsServer.Dispatch(impl, ref req) : IoServer.Dispatch(impl, ref req);
}
