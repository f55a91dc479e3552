using System.Runtime.CompilerServices;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// <c>[CallerBuffer]</c> out arrays (io_read's data): in process the dispatch lends the caller's own buffer to the
/// server, which writes the data once, where the caller reads it; a deferred reply, an error and the other transports
/// keep the reply's copy.
/// </summary>
public class CallerBufferTests
{
    private sealed unsafe class Reader : IoBase
    {
        public nint Seen;
        public Errno Code = Errno.OK;
        public bool Defer;
        public DeferredReply? Deferred;

        public override Errno io_read(Span<byte> data, out int dataCount, long offset, int amount)
        {
            Seen = data.IsEmpty ? 0 : (nint)Unsafe.AsPointer(ref data[0]);
            dataCount = 0;
            if (Defer)
            {
                Deferred = CallContext.Current!.DeferReply();
                var d = Deferred!;
                new Thread(() => IoServer.Reply_io_read(d, Errno.OK, "later"u8)).Start();
                return Errno.MIG_NO_REPLY;
            }
            if (Code != Errno.OK) { data[0] = 0xEE; return Code; }
            int n = Math.Min(amount, data.Length);
            for (int i = 0; i < n; i++) data[i] = (byte)(offset + i);
            dataCount = n;
            return Errno.OK;
        }
    }

    private sealed unsafe class Writer : IoBase
    {
        public nint Seen;
        public byte[] Got = [];

        public override Errno io_write(ReadOnlySpan<byte> data, long offset, out int amount)
        {
            Seen = data.IsEmpty ? 0 : (nint)Unsafe.AsPointer(ref Unsafe.AsRef(in data[0]));
            Got = data.ToArray();
            amount = data.Length;
            return Errno.OK;
        }
    }

    [Fact(Timeout = 30_000)]
    public Task InProcess_TheServerReadsTheCallersBytes() => T.Run(() =>
    {
        var w = new Writer();
        using var port = ReceivePort.Create<IIo>(w, IoServer.Dispatch);
        using var send = port.MakeSend();
        var c = new IoClient(send);
        var buf = GC.AllocateArray<byte>(4096, pinned: true);
        for (int i = 0; i < buf.Length; i++) buf[i] = (byte)i;
        Assert.Equal(Errno.OK, c.io_write(buf.AsSpan(16, 1000), 0, out int n));
        Assert.Equal(1000, n);
        Assert.Equal(AddressOf(buf, 16), w.Seen); // read where it is: no copy into the request
        Assert.Equal(buf[16..1016], w.Got);
        Assert.Equal(Errno.OK, c.io_write(default, 0, out n));
        Assert.Equal(0, n);
        Assert.Empty(w.Got);
        // Beyond what a message can carry: EMSGSIZE, as when the bytes were copied into the request.
        Assert.Equal(Errno.EMSGSIZE, c.io_write(new byte[2 << 20], 0, out n));
        // The test transport copies them (the wire encoding).
        var t = new TestTransport((ref RpcRequest req) => IoServer.Dispatch(w, ref req));
        Assert.Equal(Errno.OK, new IoClient(t).io_write(buf.AsSpan(0, 10), 0, out n));
        Assert.Equal(buf[..10], w.Got);
        Assert.NotEqual(AddressOf(buf, 0), w.Seen);
    });

    private static unsafe nint AddressOf(byte[] b, int at) => (nint)Unsafe.AsPointer(ref b[at]);

    [Fact(Timeout = 30_000)]
    public Task InProcess_TheServerWritesIntoTheCallersBuffer() => T.Run(() =>
    {
        var r = new Reader();
        using var port = ReceivePort.Create<IIo>(r, IoServer.Dispatch);
        using var send = port.MakeSend();
        var c = new IoClient(send);
        var buf = GC.AllocateArray<byte>(64, pinned: true);

        Assert.Equal(Errno.OK, c.io_read(buf.AsSpan(8, 32), out int n, 100, 16));
        Assert.Equal(16, n);
        Assert.Equal(AddressOf(buf, 8), r.Seen); // the caller's own memory: no copy through the reply
        for (int i = 0; i < n; i++) Assert.Equal((byte)(100 + i), buf[8 + i]);
        Assert.True(buf.AsSpan(0, 8).IndexOfAnyExcept((byte)0) < 0);

        // The server gets at most the caller's buffer: a short read, not ERANGE.
        Assert.Equal(Errno.OK, c.io_read(buf.AsSpan(0, 4), out n, 0, 64));
        Assert.Equal(4, n);

        // An error: no count (what the server wrote into the buffer before failing stays there).
        r.Code = Errno.EIO;
        Assert.Equal(Errno.EIO, c.io_read(buf.AsSpan(0, 8), out n, 0, 8));
        Assert.Equal(0, n);
        r.Code = Errno.OK;

        // A deferred reply is written later into a buffer of its own, then copied to the caller as usual.
        r.Defer = true;
        var b2 = new byte[16];
        Assert.Equal(Errno.OK, c.io_read(b2, out n, 0, 16));
        Assert.Equal("later"u8.ToArray(), b2[..n]);
        r.Deferred?.Dispose();
    });

    [Fact(Timeout = 30_000)]
    public Task OtherTransports_KeepTheReplysCopy() => T.Run(() =>
    {
        // The test transport (the wire encoding without the core) never lends: the array travels in the reply, and
        // what does not fit the caller's buffer is ERANGE, as before.
        var r = new Reader();
        var t = new TestTransport((ref RpcRequest req) => IoServer.Dispatch(r, ref req));
        var c = new IoClient(t);
        var buf = new byte[4];
        Assert.Equal(Errno.ERANGE, c.io_read(buf, out int n, 0, 8));
        Assert.Equal(4, n);
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, buf);
        Assert.NotEqual(0, r.Seen);
    });
}
