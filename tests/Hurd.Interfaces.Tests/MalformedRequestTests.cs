using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// A server's dispatch against hostile request bodies: it answers EBADMSG (or MIG_BAD_ID)
/// without writing a reply and without calling the implementation.
/// </summary>
public class MalformedRequestTests
{

    /// <summary>Runs <paramref name="dispatch"/> on a raw body; returns its result and the reply bytes written.</summary>
    private static Errno Raw(DispatchFn dispatch, uint id, string bodyHex, RightDescriptor[]? rights, out byte[] reply)
    {
        var body = Hex.Bytes(bodyHex);
        var replyBuf = new byte[4096];
        var req = new RpcRequest
        {
            Id = id,
            Body = new MessageReader(body, rights ?? []),
            ReplyBody = new MessageWriter(replyBuf, new RightDescriptor[8]),
            Context = new TestContext(),
        };
        var r = dispatch(ref req);
        reply = req.ReplyBody.Written.ToArray();
        return r;
    }

    [Theory(Timeout = 30_000)]
    [InlineData("")]                          // nothing at all
    [InlineData("10000000")]                  // the offset cut short
    [InlineData("10000000 00000000")]         // the amount missing
    [InlineData("10000000 00000000 0010")]    // the amount cut short
    public Task IoRead_TruncatedBody_IsEBADMSG_WithoutCallingTheServer(string body) => T.Run(() =>
    {
        var io = new FakeIo();
        var r = Raw((ref RpcRequest q) => IoServer.Dispatch(io, ref q), IoServer.Ids.io_read, body, null, out var reply);
        Assert.Equal(Errno.EBADMSG, r);
        Assert.Empty(reply);
        Assert.Equal(0, io.Calls);
    });

    [Theory(Timeout = 30_000)]
    [InlineData("e8030000 612f6200 81000000 00000000")]  // name length 1000, 12 bytes follow
    [InlineData("ffffffff 612f6200 81000000 00000000")]  // negative name length
    [InlineData("03000000 612f6200 81000000")]           // the mode missing
    [InlineData("fdffff7f")]                             // length near int.MaxValue
    public Task DirLookup_BadLengths_AreEBADMSG(string body) => T.Run(() =>
    {
        var fs = new FakeFs();
        var r = Raw((ref RpcRequest q) => FsServer.Dispatch(fs, ref q), FsServer.Ids.dir_lookup, body, null, out var reply);
        Assert.Equal(Errno.EBADMSG, r);
        Assert.Empty(reply);
        Assert.Equal(0, fs.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task DirLink_RightIndexWithoutDescriptor_IsEBADMSG() => T.Run(() =>
    {
        var fs = new FakeFs();
        // file = right index 0, but the message carries no rights.
        var r = Raw((ref RpcRequest q) => FsServer.Dispatch(fs, ref q), FsServer.Ids.dir_link, "00000000 01000000 78000000 01000000", null, out var reply);
        Assert.Equal(Errno.EBADMSG, r);
        Assert.Empty(reply);
        Assert.Equal(0, fs.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task DirLink_RightIndexOutOfRange_IsEBADMSG() => T.Run(() =>
    {
        var fs = new FakeFs();
        var rights = new[] { new RightDescriptor(new PortName(4), Disposition.CopySend) };
        var r = Raw((ref RpcRequest q) => FsServer.Dispatch(fs, ref q), FsServer.Ids.dir_link, "05000000 01000000 78000000 01000000", rights, out var reply);
        Assert.Equal(Errno.EBADMSG, r);
        Assert.Empty(reply);
        Assert.Equal(0, fs.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task DirLink_WellFormed_CallsTheServer() => T.Run(() =>
    {
        var fs = new FakeFs();
        var rights = new[] { new RightDescriptor(new PortName(4), Disposition.CopySend) };
        var r = Raw((ref RpcRequest q) => FsServer.Dispatch(fs, ref q), FsServer.Ids.dir_link, "00000000 01000000 78000000 01000000", rights, out var reply);
        Assert.Equal(Errno.OK, r);
        Assert.Equal(Hex.Norm("00000000"), Hex.Of(reply));
        Assert.Equal(new PortName(4), fs.LastFile);
    });

    [Fact(Timeout = 30_000)]
    public Task FsysGetroot_IdArrayNotAMultipleOf4_IsEBADMSG() => T.Run(() =>
    {
        var fsys = new FakeFsys();
        var rights = new[] { new RightDescriptor(new PortName(5), Disposition.CopySend) };
        var r = Raw((ref RpcRequest q) => FsysServer.Dispatch(fsys, ref q), FsysServer.Ids.fsys_getroot,
            "00000000 03000000 e8030000 00000000 01000000", rights, out var reply);
        Assert.Equal(Errno.EBADMSG, r);
        Assert.Empty(reply);
        Assert.Equal(0, fsys.Calls);
    });

    [Theory(Timeout = 30_000)]
    [InlineData(21000u - 1)]
    [InlineData(21012u)]      // io_select: not carried
    [InlineData(21020u)]      // conch calls: not carried
    [InlineData(21101u)]      // a reply id
    [InlineData(20018u)]      // an fs id sent to an io-only server
    public Task UnknownId_IsMIG_BAD_ID_WithNothingWritten(uint id) => T.Run(() =>
    {
        var io = new FakeIo();
        var r = Raw((ref RpcRequest q) => IoServer.Dispatch(io, ref q), id, "00000000 00000000 00000000", null, out var reply);
        Assert.Equal(Errno.MIG_BAD_ID, r);
        Assert.Empty(reply);
        Assert.Equal(0, io.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task UnknownId_ThroughTheProxy_ReachesTheClientAsMIG_BAD_ID() => T.Run(() =>
    {
        var io = new FakeIo();
        // An fs client talking to a port that only speaks io.
        var c = new FsClient(new TestTransport((ref RpcRequest q) => IoServer.Dispatch(io, ref q)));
        Assert.Equal(Errno.MIG_BAD_ID, c.file_chmod((Hurd.Ipc.Abi.FileMode)0x1a4));
        Assert.Equal(Errno.EOPNOTSUPP, Errno.MIG_BAD_ID.ToPosix());
    });

    [Fact(Timeout = 30_000)]
    public Task ServerClaimingMoreBytesThanItsSpan_AnswersEPROTO() => T.Run(() =>
    {
        var io = new FakeIo { ReadCountOverride = 1 << 20 };
        var t = new TestTransport((ref RpcRequest q) => IoServer.Dispatch(io, ref q));
        var e = new IoClient(t).io_read(new byte[16], out int n, 0, 16);
        Assert.Equal(Errno.EPROTO, e);
        Assert.Equal(0, n);
        Assert.Equal(Hex.Norm("47000000"), Hex.Of(t.LastReply));
    });

    [Fact(Timeout = 30_000)]
    public Task ReplyTooSmallForTheOuts_AnswersEMSGSIZE() => T.Run(() =>
    {
        var io = new FakeIo();
        var t = new TestTransport((ref RpcRequest q) => IoServer.Dispatch(io, ref q)) { ReplyCapacity = 16 };
        var e = new IoClient(t).io_stat(out _);
        Assert.Equal(Errno.EMSGSIZE, e);
        Assert.Equal(Hex.Norm("5a000000"), Hex.Of(t.LastReply));
    });

    [Fact(Timeout = 30_000)]
    public Task RandomBodies_NeverThrow_AndNeverCallTheServerWithoutAValidBody() => T.Run(() =>
    {
        var rng = new Random(1234);
        var io = new FakeIo();
        var fs = new FakeFs();
        var fsys = new FakeFsys();
        var rights = new[] { new RightDescriptor(new PortName(4), Disposition.CopySend) };
        for (int i = 0; i < 3000; i++)
        {
            var body = new byte[rng.Next(0, 48)];
            rng.NextBytes(body);
            uint which = (uint)rng.Next(0, 40);
            var reply = new byte[512];
            var req = new RpcRequest
            {
                Body = new MessageReader(body, rights),
                ReplyBody = new MessageWriter(reply, new RightDescriptor[8]),
                Context = new TestContext(),
            };
            Errno r;
            switch (i % 3)
            {
                case 0: req.Id = 21000 + which; r = IoServer.Dispatch(io, ref req); break;
                case 1: req.Id = 20000 + which; r = FsServer.Dispatch(fs, ref req); break;
                default: req.Id = 22000 + which; r = FsysServer.Dispatch(fsys, ref req); break;
            }
            if (r is Errno.EBADMSG or Errno.MIG_BAD_ID) Assert.Equal(0, req.ReplyBody.Position);
        }
    });
}
