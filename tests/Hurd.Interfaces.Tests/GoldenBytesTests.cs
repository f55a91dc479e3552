using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// Pins the wire format: the exact request bytes each proxy writes and the reply bytes each
/// dispatch writes (little-endian; scalars in 4-byte slots, 8-byte scalars 8-aligned, byte
/// arrays as u32 length + bytes padded to 4, rights as u32 indexes, a null right as ffffffff;
/// a reply is the i32 code, then, if OK, the out array, then the other outs in order).
/// A change here breaks every peer built before it: change it on purpose only.
/// </summary>
public class GoldenBytesTests
{
    [Fact(Timeout = 30_000)]
    public Task IoRead_RequestIsOffsetThenAmount_ReplyIsCodeThenData() => T.Run(() =>
    {
        var io = new FakeIo();
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r));
        Span<byte> buf = stackalloc byte[16];

        var e = new IoClient(t).io_read(buf, out int n, offset: 16, amount: 4096);

        Assert.Equal(Errno.OK, e);
        Assert.Equal(21001u, t.LastId);
        Assert.Equal(Hex.Norm("10000000 00000000 00100000"), Hex.Of(t.LastRequest));
        Assert.Empty(t.LastRequestRights);
        Assert.Equal(Hex.Norm("00000000 03000000 68692100"), Hex.Of(t.LastReply));
        Assert.Equal("hi!", System.Text.Encoding.ASCII.GetString(buf[..n]));
        Assert.Equal(16, io.LastOffset);
        Assert.Equal(4096, io.LastAmount);
    });

    [Fact(Timeout = 30_000)]
    public Task IoRead_Error_ReplyIsTheCodeAlone() => T.Run(() =>
    {
        var io = new FakeIo { Result = Errno.ENOENT };
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r));

        var e = new IoClient(t).io_read(new byte[8], out int n, -1, 8);

        Assert.Equal(Errno.ENOENT, e);
        Assert.Equal(0, n);
        Assert.Equal(Hex.Norm("02000000"), Hex.Of(t.LastReply));
    });

    [Fact(Timeout = 30_000)]
    public Task IoWrite_RequestIsDataThenAlignedOffset_ReplyIsCodeThenAmount() => T.Run(() =>
    {
        var io = new FakeIo();
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r));

        var e = new IoClient(t).io_write("hello"u8, -1, out int amount);

        Assert.Equal(Errno.OK, e);
        Assert.Equal(21000u, t.LastId);
        Assert.Equal(Hex.Norm("05000000 68656c6c 6f000000 00000000 ffffffff ffffffff"), Hex.Of(t.LastRequest));
        Assert.Equal(Hex.Norm("00000000 05000000"), Hex.Of(t.LastReply));
        Assert.Equal(5, amount);
        Assert.Equal("hello"u8.ToArray(), io.LastWritten);
        Assert.Equal(-1, io.LastOffset);
    });

    [Fact(Timeout = 30_000)]
    public Task DirLookup_RequestAndReplyBytes() => T.Run(() =>
    {
        var fs = new FakeFs();
        var t = new TestTransport((ref RpcRequest r) => FsServer.Dispatch(fs, ref r));
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];

        var e = new FsClient(t).dir_lookup("a/b"u8, OpenFlags.Read | OpenFlags.NoTrans, 0, out var doRetry, retry, out int len, out var result);

        Assert.Equal(Errno.OK, e);
        Assert.Equal(20018u, t.LastId);
        Assert.Equal(Hex.Norm("03000000 612f6200 81000000 00000000"), Hex.Of(t.LastRequest));
        Assert.Equal(Hex.Norm("00000000 04000000 72657374 01000000 00000000"), Hex.Of(t.LastReply));
        Assert.Equal([new RightDescriptor(new PortName(7), Disposition.MakeSend)], t.LastReplyRights);
        Assert.Equal(RetryType.Normal, doRetry);
        Assert.Equal("rest", System.Text.Encoding.ASCII.GetString(retry[..len]));
        Assert.Equal(new PortRight(new PortName(7), Disposition.MakeSend), result);
        Assert.Equal("a/b"u8.ToArray(), fs.LastName);
    });

    [Fact(Timeout = 30_000)]
    public Task FsysGetroot_RequestCarriesDotdotRightAndIdArrays() => T.Run(() =>
    {
        var fsys = new FakeFsys();
        var t = new TestTransport((ref RpcRequest r) => FsysServer.Dispatch(fsys, ref r));
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];

        var e = new FsysClient(t).fsys_getroot(new PortName(5), [1000u], [1000u, 27u], OpenFlags.Read,
            out var doRetry, retry, out int len, out var file);

        Assert.Equal(Errno.OK, e);
        Assert.Equal(22002u, t.LastId);
        Assert.Equal(Hex.Norm("00000000 04000000 e8030000 08000000 e8030000 1b000000 01000000"), Hex.Of(t.LastRequest));
        Assert.Equal([new RightDescriptor(new PortName(5), Disposition.CopySend)], t.LastRequestRights);
        Assert.Equal(Hex.Norm("00000000 00000000 01000000 00000000"), Hex.Of(t.LastReply));
        Assert.Equal([new RightDescriptor(new PortName(9), Disposition.MakeSend)], t.LastReplyRights);
        Assert.Equal(RetryType.Normal, doRetry);
        Assert.Equal(0, len);
        Assert.Equal(new PortName(9), file.Name);
        Assert.Equal([1000u], fsys.LastUids);
        Assert.Equal([1000u, 27u], fsys.LastGids);
    });

    [Fact(Timeout = 30_000)]
    public Task FileSetTranslator_NullActivePortTravelsAsAllOnes() => T.Run(() =>
    {
        var fs = new FakeFs();
        var t = new TestTransport((ref RpcRequest r) => FsServer.Dispatch(fs, ref r));

        var e = new FsClient(t).file_set_translator(TransFlags.Set, TransFlags.None, GoAwayFlags.Force, "/hurd/hello\0"u8, PortName.Null);

        Assert.Equal(Errno.OK, e);
        Assert.Equal(20027u, t.LastId);
        Assert.Equal(Hex.Norm("04000000 00000000 04000000 0c000000 2f687572 642f6865 6c6c6f00 ffffffff"), Hex.Of(t.LastRequest));
        Assert.Empty(t.LastRequestRights);
        Assert.Equal(Hex.Norm("00000000"), Hex.Of(t.LastReply));
        Assert.Equal(TransFlags.Set, fs.LastPassiveFlags);
        Assert.Equal(GoAwayFlags.Force, fs.LastGoAway);
        Assert.Equal("/hurd/hello\0"u8.ToArray(), fs.LastPassive);
        Assert.True(fs.LastActive.IsNull);
    });

    [Fact(Timeout = 30_000)]
    public Task IoReauthenticate_IsOneWayWithAMadeSendRight() => T.Run(() =>
    {
        var io = new FakeIo();
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r));

        var e = new IoClient(t).io_reauthenticate(new PortName(4));

        Assert.Equal(Errno.OK, e);
        Assert.True(t.LastWasOneWay);
        Assert.Equal(21014u, t.LastId);
        Assert.Equal(Hex.Norm("00000000"), Hex.Of(t.LastRequest));
        Assert.Equal([new RightDescriptor(new PortName(4), Disposition.MakeSend)], t.LastRequestRights);
        Assert.Equal(Errno.MIG_NO_REPLY, t.LastDispatchResult);
        Assert.Empty(t.LastReply);
        Assert.True(io.Reauthenticated);
    });

    [Fact(Timeout = 30_000)]
    public Task HurdIds_MatchTheDefsFiles() => T.Run(() =>
    {
        Assert.Equal(21000u, IoServer.Ids.io_write);
        Assert.Equal(21001u, IoServer.Ids.io_read);
        Assert.Equal(21002u, IoServer.Ids.io_seek);
        Assert.Equal(21013u, IoServer.Ids.io_stat);
        Assert.Equal(21014u, IoServer.Ids.io_reauthenticate);
        Assert.Equal(21015u, IoServer.Ids.io_restrict_auth);
        Assert.Equal(21016u, IoServer.Ids.io_duplicate);
        Assert.Equal(21028u, IoServer.Ids.io_pathconf);
        Assert.Equal(21029u, IoServer.Ids.io_identity);
        Assert.Equal(21031u, IoServer.Ids.io_select_timeout);
        Assert.Equal(20001u, FsServer.Ids.file_chown);
        Assert.Equal(20003u, FsServer.Ids.file_chmod);
        Assert.Equal(20006u, FsServer.Ids.file_set_size);
        Assert.Equal(20011u, FsServer.Ids.file_getcontrol);
        Assert.Equal(20018u, FsServer.Ids.dir_lookup);
        Assert.Equal(20019u, FsServer.Ids.dir_readdir);
        Assert.Equal(20024u, FsServer.Ids.dir_rename);
        Assert.Equal(20027u, FsServer.Ids.file_set_translator);
        Assert.Equal(20028u, FsServer.Ids.file_get_translator);
        Assert.Equal(20031u, FsServer.Ids.file_reparent);
        Assert.Equal(20035u, FsServer.Ids.file_utimens);
        Assert.Equal(20036u, FsServer.Ids.file_record_lock);
        Assert.Equal(20080u, FsServer.Ids.file_get_xattr);
        Assert.Equal(22000u, FsysServer.Ids.fsys_startup);
        Assert.Equal(22001u, FsysServer.Ids.fsys_goaway);
        Assert.Equal(22002u, FsysServer.Ids.fsys_getroot);
        Assert.Equal(22009u, FsysServer.Ids.fsys_get_options);
        Assert.Equal(22011u, FsysServer.Ids.fsys_get_source);
        Assert.Equal("dir_lookup", FsServer.RoutineName(20018));
        Assert.Null(FsServer.RoutineName(20000));
    });
}
