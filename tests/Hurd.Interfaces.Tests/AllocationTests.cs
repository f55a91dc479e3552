using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// The generated proxy and dispatch do not allocate per call (style rule 6): measured through
/// an engine that itself allocates nothing (fixed buffers, dispatch in place).
/// </summary>
public class AllocationTests
{
    public delegate Errno DispatchOf<in TImpl>(TImpl impl, ref RpcRequest req);

    /// <summary>An allocation-free loopback: request and reply live in fixed arrays.</summary>
    private sealed class DirectEngine<TImpl>(TImpl impl, DispatchOf<TImpl> dispatch) : IRpcTarget, ICallEngine where TImpl : class
    {
        private readonly byte[] _req = new byte[8192], _rep = new byte[8192];
        private readonly RightDescriptor[] _reqR = new RightDescriptor[8], _repR = new RightDescriptor[8];
        private readonly TestContext _ctx = new();

        public RpcCall BeginCall(uint id) => new() { Id = id, Request = new MessageWriter(_req, _reqR), DeadlineMs = long.MaxValue, Engine = this };
        public void Release(ref RpcCall call) { }
        public Errno Send(ref RpcCall call) => Invoke(ref call);
        public Errno Invoke(ref RpcCall call)
        {
            var req = new RpcRequest
            {
                Id = call.Id,
                Body = new MessageReader(_req.AsSpan(0, call.Request.PaddedLength), _reqR.AsSpan(0, call.Request.RightCount)),
                ReplyBody = new MessageWriter(_rep, _repR),
                Context = _ctx,
            };
            var r = dispatch(impl, ref req);
            if (r == Errno.MIG_NO_REPLY) return Errno.OK;
            call.Reply = new MessageReader(_rep.AsSpan(0, req.ReplyBody.PaddedLength), _repR.AsSpan(0, req.ReplyBody.RightCount));
            return (Errno)call.Reply.ReadInt32();
        }
    }

    [Fact(Timeout = 30_000)]
    public Task ProxyAndDispatch_DoNotAllocatePerCall() => T.Run(() =>
    {
        var io = new FakeIo { Record = false };
        var fs = new FakeFs { Record = false };
        var ioc = new IoClient(new DirectEngine<IIo>(io, IoServer.Dispatch));
        var fsc = new FsClient(new DirectEngine<IFs>(fs, FsServer.Dispatch));
        Span<byte> buf = stackalloc byte[64];
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];

        int failures = 0;
        void Round(Span<byte> b, Span<byte> rn)
        {
            // No Assert in the loop: xunit's comparers allocate.
            if (ioc.io_read(b, out _, 0, 16) != Errno.OK) failures++;
            if (ioc.io_write(b[..8], -1, out _) != Errno.OK) failures++;
            if (ioc.io_stat(out _) != Errno.OK) failures++;
            if (ioc.io_reauthenticate(new PortName(3)) != Errno.OK) failures++;
            if (fsc.dir_lookup("a/b"u8, OpenFlags.Read, 0, out _, rn, out _, out _) != Errno.OK) failures++;
        }

        for (int i = 0; i < 2000; i++) Round(buf, retry); // warm up (tiered JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) Round(buf, retry);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.True(allocated < 10_000, $"{allocated} bytes allocated over 50,000 calls");
    });
}
