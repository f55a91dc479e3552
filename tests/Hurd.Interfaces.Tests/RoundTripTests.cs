using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using FileMode = Hurd.Ipc.Abi.FileMode;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// Client proxy -> bytes -> Dispatch -> reply bytes -> proxy outs, through the in-memory
/// <see cref="TestTransport"/>, for every parameter kind the generator supports.
/// </summary>
public class RoundTripTests
{
    private static (KindsClient client, KindsImpl impl, TestTransport t) Kinds()
    {
        var impl = new KindsImpl();
        var t = new TestTransport((ref RpcRequest r) => KindsServer.Dispatch(impl, ref r));
        return (new KindsClient(t), impl, t);
    }

    [Fact(Timeout = 30_000)]
    public Task Scalars_OfEveryWidthAndEnums_RoundTrip() => T.Run(() =>
    {
        var (c, impl, _) = Kinds();
        var e = c.scalars(-5, 0xFFFF_FFF0u, long.MinValue + 3, ulong.MaxValue - 1, short.MinValue, ushort.MaxValue, 200, -100, true,
            OpenFlags.Read | OpenFlags.NoTrans, SmallEnum.B, TinyEnum.Y,
            out var oi, out var ou, out var ol, out var oul, out var os, out var ous, out var ob, out var osb, out var of, out var oe, out var ose, out var ote);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(1, impl.Calls);
        Assert.Equal(-5, oi);
        Assert.Equal(0xFFFF_FFF0u, ou);
        Assert.Equal(long.MinValue + 3, ol);
        Assert.Equal(ulong.MaxValue - 1, oul);
        Assert.Equal(short.MinValue, os);
        Assert.Equal(ushort.MaxValue, ous);
        Assert.Equal((byte)200, ob);
        Assert.Equal((sbyte)-100, osb);
        Assert.True(of);
        Assert.Equal(OpenFlags.Read | OpenFlags.NoTrans, oe);
        Assert.Equal(SmallEnum.B, ose);
        Assert.Equal(TinyEnum.Y, ote);
    });

    [Fact(Timeout = 30_000)]
    public Task Structs_InOutAndRef_RoundTrip() => T.Run(() =>
    {
        var (c, _, t) = Kinds();
        var st = new Stat { Ino = 99, Size = 1234, Mode = FileMode.Directory | (FileMode)0x1ed, Mtime = new TimeSpec(5, 6) };
        var rb = new TimeSpec(10, 20);
        var e = c.structs(in st, new TimeSpec(1, 2), new Odd { A = 7, B = 8 }, out var oa, out var oc, ref rb);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(st.Ino, oa.Ino);
        Assert.Equal(st.Size, oa.Size);
        Assert.Equal(st.Mode, oa.Mode);
        Assert.Equal(st.Mtime, oa.Mtime);
        Assert.Equal(7, oc.A);
        Assert.Equal(8, oc.B);
        Assert.Equal(new TimeSpec(11, 22), rb);
        // Structs are 8-aligned, copied as their memory layout: Stat, TimeSpec, Odd (8 bytes with padding), TimeSpec.
        int s = (System.Runtime.CompilerServices.Unsafe.SizeOf<Stat>() + 7) & ~7;
        Assert.Equal(s + 16 + 8 + 16, t.LastRequest.Length);
        Assert.Equal(Hex.Norm("07000000 08"), Hex.Of(t.LastRequest.AsSpan(s + 16, 5)));
    });

    [Fact(Timeout = 30_000)]
    public Task Arrays_BytesIdsAndOutBytes_RoundTrip() => T.Run(() =>
    {
        var (c, _, _) = Kinds();
        Span<byte> outBuf = stackalloc byte[32];
        var e = c.arrays("abc"u8, [1u, 2u, 39u], 10, outBuf, out int n, out int sum);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(10, n);
        Assert.Equal("abcabcabca"u8.ToArray(), outBuf[..n].ToArray());
        Assert.Equal(42, sum);
    });

    [Fact(Timeout = 30_000)]
    public Task Arrays_EmptyInputs_RoundTrip() => T.Run(() =>
    {
        var (c, _, _) = Kinds();
        var e = c.arrays(default, default, 0, default, out int n, out int sum);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(0, n);
        Assert.Equal(0, sum);
    });

    [Fact(Timeout = 30_000)]
    public Task OutBytes_ServerSpanIsCappedByMaxLength() => T.Run(() =>
    {
        var (c, _, _) = Kinds();
        var buf = new byte[1000];
        var e = c.arrays("x"u8, default, 500, buf, out int n, out _);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(64, n); // [MaxLength(64)]: the dispatch handed the server 64 bytes
    });

    [Fact(Timeout = 30_000)]
    public Task OutBytes_LongerThanCallersBuffer_CopiesWhatFitsAndReturnsERANGE() => T.Run(() =>
    {
        var (c, _, _) = Kinds();
        var buf = new byte[4];
        var e = c.arrays("xyz"u8, default, 9, buf, out int n, out _);
        Assert.Equal(Errno.ERANGE, e);
        Assert.Equal(4, n);
        Assert.Equal("xyzx"u8.ToArray(), buf);
    });

    [Fact(Timeout = 30_000)]
    public Task Ports_DispositionsAndNullPorts_RoundTrip() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        var e = c.ports(new PortName(5), new PortName(6), PortRight.MakeSend(new PortName(8)), PortName.Null,
            out var made, out var copiedOut, out var polyOut, out var noneOut);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(
            [new RightDescriptor(new PortName(5), Disposition.CopySend), new RightDescriptor(new PortName(6), Disposition.MoveSend), new RightDescriptor(new PortName(8), Disposition.MakeSend)],
            t.LastRequestRights);
        Assert.Equal(Hex.Norm("00000000 01000000 02000000 ffffffff"), Hex.Of(t.LastRequest));
        Assert.Equal(new PortName(5), impl.InCopied);
        Assert.Equal(new PortName(6), impl.InMoved);
        Assert.Equal(PortRight.MakeSend(new PortName(8)), impl.InPoly);
        Assert.True(impl.InNone.IsNull);
        Assert.Equal(
            [new RightDescriptor(new PortName(100), Disposition.MakeSend), new RightDescriptor(new PortName(101), Disposition.CopySend), new RightDescriptor(new PortName(102), Disposition.MoveSend)],
            t.LastReplyRights);
        Assert.Equal(new PortName(100), made);
        Assert.Equal(new PortName(101), copiedOut);
        Assert.Equal(PortRight.MoveSend(new PortName(102)), polyOut);
        Assert.True(noneOut.IsNull);
    });

    [Fact(Timeout = 30_000)]
    public Task SimpleRoutine_Void_IsSentOneWayAndDispatchReturnsNoReply() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        c.oneway(17, "note"u8);
        Assert.True(t.LastWasOneWay);
        Assert.Equal(Errno.MIG_NO_REPLY, t.LastDispatchResult);
        Assert.Empty(t.LastReply);
        Assert.Equal(17, impl.OnewayX);
        Assert.Equal("note"u8.ToArray(), impl.OnewayNote);
    });

    [Fact(Timeout = 30_000)]
    public Task SimpleRoutine_Errno_ReturnsTheSendResultNotTheServers() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        Assert.Equal(Errno.OK, c.oneway_errno(new PortName(3)));
        Assert.Equal(1, impl.Calls);
        t.TransportError = Errno.EDIED;
        Assert.Equal(Errno.EDIED, c.oneway_errno(new PortName(3)));
    });

    [Fact(Timeout = 30_000)]
    public Task RefParameters_GoInTheRequestAndComeBackInTheReply() => T.Run(() =>
    {
        var (c, _, _) = Kinds();
        int counter = 41;
        var sel = SelectType.Read | SelectType.Write;
        var lk = new Flock { Type = Flock.WriteLock, Start = 10, Len = 5 };
        var e = c.refs(ref counter, ref sel, ref lk);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(42, counter);
        Assert.Equal(SelectType.Write, sel);
        Assert.Equal(1234, lk.Pid);
        Assert.Equal(10, lk.Len);
        Assert.Equal(10, lk.Start);
    });

    [Fact(Timeout = 30_000)]
    public Task NoParameters_RoundTrip() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        Assert.Equal(Errno.OK, c.nothing());
        Assert.Empty(t.LastRequest);
        Assert.Equal(Hex.Norm("00000000"), Hex.Of(t.LastReply));
        Assert.Equal(1, impl.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task DeferredReply_DispatchWritesNothing_ReplyHelperWritesCodeThenOuts() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        impl.Defer = true;
        var e = c.deferred(5, new byte[8], out _, out _);
        Assert.Equal(Errno.ETIMEDOUT, e); // the test transport does not wait for deferred replies
        Assert.Equal(Errno.MIG_NO_REPLY, t.LastDispatchResult);
        Assert.Empty(t.LastReply);
        var d = Assert.IsType<CapturingDeferredReply>(impl.Deferred);

        Assert.Equal(Errno.OK, KindsServer.Reply_deferred(d, Errno.OK, "later"u8, 7L));
        Assert.Equal(Hex.Norm("00000000 05000000 6c617465 72000000 07000000 00000000"), Hex.Of(d.Sent));

        Assert.Equal(Errno.OK, KindsServer.Reply_deferred(d, Errno.EINTR, "ignored"u8, 7L));
        Assert.Equal(Hex.Norm("04000000"), Hex.Of(d.Sent));
    });

    [Fact(Timeout = 30_000)]
    public Task Deferred_NotDeferred_ReplyLayoutMatchesTheHelper() => T.Run(() =>
    {
        var (c, _, t) = Kinds();
        var buf = new byte[8];
        Assert.Equal(Errno.OK, c.deferred(7, buf, out int n, out long y));
        Assert.Equal("now"u8.ToArray(), buf[..n]);
        Assert.Equal(7L, y);
        Assert.Equal(Hex.Norm("00000000 03000000 6e6f7700 00000000 07000000 00000000"), Hex.Of(t.LastReply));
    });

    [Fact(Timeout = 30_000)]
    public Task ClientOptions_TimeoutAndCancellation_AreCopiedIntoTheCall() => T.Run(() =>
    {
        var (c, _, t) = Kinds();
        c.nothing();
        Assert.Equal(long.MaxValue, t.LastDeadlineMs);
        Assert.False(t.LastCancellation.CanBeCanceled);

        using var cts = new CancellationTokenSource();
        c.TimeoutMs = 5000;
        c.Cancellation = cts.Token;
        long before = Environment.TickCount64;
        c.nothing();
        Assert.InRange(t.LastDeadlineMs, before + 5000, Environment.TickCount64 + 5000);
        Assert.Equal(cts.Token, t.LastCancellation);
    });

    [Fact(Timeout = 30_000)]
    public Task TransportError_PassesThrough_OutsStayDefault() => T.Run(() =>
    {
        var io = new FakeIo();
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r)) { TransportError = Errno.EDIED };
        var e = new IoClient(t).io_seek(10, SeekWhence.Set, out long newp);
        Assert.Equal(Errno.EDIED, e);
        Assert.Equal(0, newp);
        Assert.Equal(0, io.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task MalformedReply_GivesEBADMSG() => T.Run(() =>
    {
        var io = new FakeIo();
        // Code OK but the i64 newp is missing.
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r)) { ForcedReply = Hex.Bytes("00000000 01000000") };
        Assert.Equal(Errno.EBADMSG, new IoClient(t).io_seek(10, SeekWhence.Set, out long newp));
        Assert.Equal(0, newp);
    });

    [Fact(Timeout = 30_000)]
    public Task MalformedReply_BadRightIndex_GivesEBADMSG() => T.Run(() =>
    {
        var io = new FakeIo();
        var t = new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r)) { ForcedReply = Hex.Bytes("00000000 05000000") };
        Assert.Equal(Errno.EBADMSG, new IoClient(t).io_duplicate(out var p));
        Assert.True(p.IsNull);
    });

    [Fact(Timeout = 30_000)]
    public Task IoProtocol_StatSeekSelectAndVersion_RoundTrip() => T.Run(() =>
    {
        var io = new FakeIo();
        var c = new IoClient(new TestTransport((ref RpcRequest r) => IoServer.Dispatch(io, ref r)));
        Assert.Equal(Errno.OK, c.io_stat(out var st));
        Assert.Equal(42ul, st.Ino);
        Assert.Equal(new TimeSpec(1, 2), st.Mtime);
        Assert.Equal(Errno.OK, c.io_seek(100, SeekWhence.Data, out long newp));
        Assert.Equal(103, newp);
        var sel = SelectType.Read | SelectType.Write;
        Assert.Equal(Errno.OK, c.io_select_timeout(new TimeSpec(-1, 0), ref sel));
        Assert.Equal(SelectType.Read, sel);
        var name = new byte[64];
        Assert.Equal(Errno.OK, c.io_server_version(name, out int n, out int major, out int minor, out int edit));
        Assert.Equal("fake"u8.ToArray(), name[..n]);
        Assert.Equal((1, 2, 3), (major, minor, edit));
        Assert.Equal(Errno.OK, c.io_duplicate(out var dup));
        Assert.Equal(new PortName(77), dup);
        Assert.Equal(Errno.EOPNOTSUPP, c.io_readable(out _));
    });

    [Fact(Timeout = 30_000)]
    public Task FsProtocol_ReaddirXattrAndLocks_RoundTrip() => T.Run(() =>
    {
        var fs = new FakeFs();
        var c = new FsClient(new TestTransport((ref RpcRequest r) => FsServer.Dispatch(fs, ref r)));

        var buf = new byte[4096];
        Assert.Equal(Errno.OK, c.dir_readdir(buf, out int len, entry: 1, nentries: -1, bufsiz: 0, out int amount));
        Assert.Equal(3, amount);
        var rd = new DirentReader(buf.AsSpan(0, len));
        var names = new List<string>();
        while (rd.TryRead(out var d)) names.Add(System.Text.Encoding.UTF8.GetString(d.Name));
        Assert.False(rd.Error);
        Assert.Equal(["..", "a", "bb"], names);

        Assert.Equal(Errno.OK, c.file_get_xattr("user.x"u8, 0, default, out int vn, out int vlen));
        Assert.Equal((0, 5), (vn, vlen));
        Assert.Equal(Errno.ERANGE, c.file_get_xattr("user.x"u8, 2, new byte[2], out _, out _));
        var v = new byte[16];
        Assert.Equal(Errno.OK, c.file_get_xattr("user.x"u8, v.Length, v, out vn, out vlen));
        Assert.Equal("value"u8.ToArray(), v[..vn]);

        var lk = new Flock { Type = Flock.WriteLock, Len = 1, Pid = 99 };
        Assert.Equal(Errno.OK, c.file_record_lock(RecordLockCommand.GetLock, ref lk, PortName.Null));
        Assert.Equal(Flock.Unlock, lk.Type);
        Assert.Equal(0, lk.Pid);

        Assert.Equal(Errno.OK, c.file_statfs(out var sfs));
        Assert.Equal(4096, sfs.Bsize);
        Assert.Equal(Errno.OK, c.file_get_translator_cntl(out var cntl));
        Assert.Equal(new PortName(31), cntl);
        Assert.Equal(Errno.OK, c.dir_link(new PortName(4), "x"u8, true));
        Assert.Equal(new PortName(4), fs.LastFile);
        Assert.True(fs.LastExcl);
        Assert.Equal(Errno.EOPNOTSUPP, c.dir_unlink("x"u8));
    });

    [Fact(Timeout = 30_000)]
    public Task FsysProtocol_GoawayAndOptions_RoundTrip() => T.Run(() =>
    {
        var fsys = new FakeFsys();
        var c = new FsysClient(new TestTransport((ref RpcRequest r) => FsysServer.Dispatch(fsys, ref r)));
        Assert.Equal(Errno.EBUSY, c.fsys_goaway(GoAwayFlags.NoSync | GoAwayFlags.Recurse));
        Assert.Equal(GoAwayFlags.NoSync | GoAwayFlags.Recurse, fsys.LastGoAway);
        var buf = new byte[256];
        Assert.Equal(Errno.OK, c.fsys_get_options(buf, out int n));
        Assert.Equal("hello\0"u8.ToArray(), buf[..n]);
        Assert.Equal(Errno.OK, c.fsys_startup(OpenFlags.Read, new PortName(2), out var real));
        Assert.Equal(new PortName(3), real);
        Assert.Equal(Errno.ESTALE, c.fsys_getfile([0u], [0u], "fh"u8, out _));
    });

    [Fact(Timeout = 30_000)]
    public Task OnePortServingFsAndIo_RoutesWithHandles_OrChainsOnMIG_BAD_ID() => T.Run(() =>
    {
        var fs = new FakeFs();
        var io = new FakeIo();
        var routed = new TestTransport((ref RpcRequest r) => FsServer.Handles(r.Id) ? FsServer.Dispatch(fs, ref r) : IoServer.Dispatch(io, ref r));
        Assert.Equal(Errno.OK, new FsClient(routed).dir_mkdir("d"u8, (Hurd.Ipc.Abi.FileMode)0x1ed));
        Assert.Equal(Errno.OK, new IoClient(routed).io_stat(out var st));
        Assert.Equal(42ul, st.Ino);

        // MIG_BAD_ID means "not mine": nothing was read or written, so the next subsystem can take it.
        var chained = new TestTransport((ref RpcRequest r) =>
        {
            var x = FsServer.Dispatch(fs, ref r);
            return x == Errno.MIG_BAD_ID ? IoServer.Dispatch(io, ref r) : x;
        });
        var buf = new byte[8];
        Assert.Equal(Errno.OK, new IoClient(chained).io_read(buf, out int n, 0, 8));
        Assert.Equal("hi!"u8.ToArray(), buf[..n]);
        Assert.False(FsServer.Handles(IoServer.Ids.io_read));
        Assert.True(IoServer.Handles(IoServer.Ids.io_read));
    });

    [Fact(Timeout = 30_000)]
    public Task SeveralOutArrays_BytesAndIds_AreWrittenInPlaceThenPacked() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        var a = new byte[8];
        var ids = new uint[4];
        var rest = new byte[100];
        var e = c.multi(3, a, out int an, ids, out int idn, rest, out int rn, out int tail);
        Assert.Equal(Errno.OK, e);
        Assert.Equal("ab"u8.ToArray(), a[..an]);
        Assert.Equal([1u, 2u], ids[..idn]);
        Assert.Equal("xyz"u8.ToArray(), rest[..rn]);
        Assert.Equal(9, tail);
        Assert.Equal((8, 4), (impl.MultiALength, impl.MultiIdsLength)); // [MaxLength] in elements
        Assert.True(impl.MultiRestLength > 60_000);                      // the last array gets the room left
        Assert.Equal(Hex.Norm("00000000 02000000 61620000 08000000 01000000 02000000 03000000 78797a00 09000000"), Hex.Of(t.LastReply));
    });

    [Fact(Timeout = 30_000)]
    public Task SeveralOutArrays_ShortCallerBuffer_GivesERANGE() => T.Run(() =>
    {
        var (c, _, _) = Kinds();
        var ids = new uint[1];
        var e = c.multi(3, new byte[8], out _, ids, out int idn, new byte[8], out int rn, out _);
        Assert.Equal(Errno.ERANGE, e);
        Assert.Equal(1, idn);
        Assert.Equal(1u, ids[0]);
        Assert.Equal(3, rn);
    });

    [Fact(Timeout = 30_000)]
    public Task PortArrays_RoundTrip_WithTheirDispositionAndNulls() => T.Run(() =>
    {
        var (c, impl, t) = Kinds();
        var e = c.portarray([new PortName(4), PortName.Null, new PortName(6)], [new PortName(8)], out int count);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(4, count);
        Assert.Equal(Hex.Norm("03000000 00000000 ffffffff 01000000 01000000 02000000"), Hex.Of(t.LastRequest));
        Assert.Equal(
            [new RightDescriptor(new PortName(4), Disposition.CopySend), new RightDescriptor(new PortName(6), Disposition.CopySend), new RightDescriptor(new PortName(8), Disposition.MoveSend)],
            t.LastRequestRights);
        Assert.Equal([new PortName(4), PortName.Null, new PortName(6)], impl.InPorts);
        Assert.Equal([new PortName(8)], impl.InMovedArray);
    });

    [Theory(Timeout = 30_000)]
    [InlineData("41000000")]                       // 65 ports: more than MaxPortArray
    [InlineData("02000000 00000000")]              // 2 announced, 1 present
    [InlineData("ffffffff")]                       // negative count
    [InlineData("01000000 07000000 00000000")]     // right index 7 without a descriptor
    public Task PortArrays_Malformed_AreEBADMSG(string body) => T.Run(() =>
    {
        var impl = new KindsImpl();
        var req = new RpcRequest
        {
            Id = KindsServer.Ids.portarray,
            Body = new MessageReader(Hex.Bytes(body), [new RightDescriptor(new PortName(4), Disposition.CopySend)]),
            ReplyBody = new MessageWriter(new byte[256], new RightDescriptor[4]),
            Context = new TestContext(),
        };
        Assert.Equal(Errno.EBADMSG, KindsServer.Dispatch(impl, ref req));
        Assert.Equal(0, req.ReplyBody.Position);
        Assert.Equal(0, impl.Calls);
    });

    /// <summary>A protid answering fs and io (the io half delegates to a FakeIo).</summary>
    private sealed class Protid(FakeFs fs, FakeIo io) : IFs, IIo
    {
        private readonly IFs _fs = fs;
        private readonly IIo _io = io;
        public Errno file_chown(uint newOwner, uint newGroup) => _fs.file_chown(newOwner, newGroup);
        public Errno file_chauthor(uint newAuthor) => _fs.file_chauthor(newAuthor);
        public Errno file_chmod(Hurd.Ipc.Abi.FileMode newMode) => _fs.file_chmod(newMode);
        public Errno file_chflags(int newFlags) => _fs.file_chflags(newFlags);
        public Errno file_set_size(long newSize) => _fs.file_set_size(newSize);
        public Errno file_lock(LockFlags flags) => _fs.file_lock(flags);
        public Errno file_lock_stat(out LockFlags mystatus, out LockFlags otherstatus) => _fs.file_lock_stat(out mystatus, out otherstatus);
        public Errno file_check_access(out OpenFlags allowed) => _fs.file_check_access(out allowed);
        public Errno file_notice_changes(PortName port) => _fs.file_notice_changes(port);
        public Errno file_getcontrol(out PortName control) => _fs.file_getcontrol(out control);
        public Errno file_statfs(out StatFs info) => _fs.file_statfs(out info);
        public Errno file_sync(bool wait, bool omitMetadata) => _fs.file_sync(wait, omitMetadata);
        public Errno file_syncfs(bool wait, bool doChildren) => _fs.file_syncfs(wait, doChildren);
        public Errno file_getlinknode(out PortName linknode) => _fs.file_getlinknode(out linknode);
        public Errno file_getfh(Span<byte> filehandle, out int filehandleCount) => _fs.file_getfh(filehandle, out filehandleCount);
        public Errno dir_lookup(ReadOnlySpan<byte> fileName, OpenFlags flags, Hurd.Ipc.Abi.FileMode mode, out RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight result)
            => _fs.dir_lookup(fileName, flags, mode, out doRetry, retryName, out retryNameCount, out result);
        public Errno dir_readdir(Span<byte> data, out int dataCount, int entry, int nentries, int bufsiz, out int amount) => _fs.dir_readdir(data, out dataCount, entry, nentries, bufsiz, out amount);
        public Errno dir_mkdir(ReadOnlySpan<byte> name, Hurd.Ipc.Abi.FileMode mode) => _fs.dir_mkdir(name, mode);
        public Errno dir_rmdir(ReadOnlySpan<byte> name) => _fs.dir_rmdir(name);
        public Errno dir_unlink(ReadOnlySpan<byte> name) => _fs.dir_unlink(name);
        public Errno dir_link(PortName file, ReadOnlySpan<byte> name, bool excl) => _fs.dir_link(file, name, excl);
        public Errno dir_rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, bool excl) => _fs.dir_rename(oldname, newdirectory, newname, excl);
        public Errno dir_mkfile(OpenFlags flags, Hurd.Ipc.Abi.FileMode mode, out PortName newnode) => _fs.dir_mkfile(flags, mode, out newnode);
        public Errno dir_notice_changes(PortName port) => _fs.dir_notice_changes(port);
        public Errno file_set_translator(TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags oldtransFlags, ReadOnlySpan<byte> passive, PortName active) => _fs.file_set_translator(passiveFlags, activeFlags, oldtransFlags, passive, active);
        public Errno file_get_translator(Span<byte> translator, out int translatorCount) => _fs.file_get_translator(translator, out translatorCount);
        public Errno file_get_translator_cntl(out PortName translatorCntl) => _fs.file_get_translator_cntl(out translatorCntl);
        public Errno file_get_fs_options(Span<byte> options, out int optionsCount) => _fs.file_get_fs_options(options, out optionsCount);
        public Errno file_reparent(PortName parent, out PortName newFile) => _fs.file_reparent(parent, out newFile);
        public Errno file_utimens(in TimeSpec newAtime, in TimeSpec newMtime) => _fs.file_utimens(newAtime, newMtime);
        public Errno file_record_lock(RecordLockCommand cmd, ref Flock flock64, PortName rendezvous) => _fs.file_record_lock(cmd, ref flock64, rendezvous);
        public Errno file_get_xattr(ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length) => _fs.file_get_xattr(name, size, value, out valueCount, out length);
        public Errno file_set_xattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags) => _fs.file_set_xattr(name, value, flags);
        public Errno file_list_xattr(int size, Span<byte> names, out int namesCount, out int length) => _fs.file_list_xattr(size, names, out namesCount, out length);
        public Errno file_remove_xattr(ReadOnlySpan<byte> name) => _fs.file_remove_xattr(name);
        public Errno file_fallocate(FallocateFlags mode, long offset, long length) => _fs.file_fallocate(mode, offset, length);
        public Errno file_copy_range(long inOffset, PortName outFile, long outOffset, long length, int flags, out long copied) => _fs.file_copy_range(inOffset, outFile, outOffset, length, flags, out copied);
        public Errno io_write(ReadOnlySpan<byte> data, long offset, out int amount) => _io.io_write(data, offset, out amount);
        public Errno io_read(Span<byte> data, out int dataCount, long offset, int amount) => _io.io_read(data, out dataCount, offset, amount);
        public Errno io_seek(long offset, SeekWhence whence, out long newp) => _io.io_seek(offset, whence, out newp);
        public Errno io_readable(out long amount) => _io.io_readable(out amount);
        public Errno io_set_all_openmodes(OpenFlags newbits) => _io.io_set_all_openmodes(newbits);
        public Errno io_get_openmodes(out OpenFlags bits) => _io.io_get_openmodes(out bits);
        public Errno io_set_some_openmodes(OpenFlags bitsToSet) => _io.io_set_some_openmodes(bitsToSet);
        public Errno io_clear_some_openmodes(OpenFlags bitsToClear) => _io.io_clear_some_openmodes(bitsToClear);
        public Errno io_async(PortName notifyPort, out PortName asyncIdPort) => _io.io_async(notifyPort, out asyncIdPort);
        public Errno io_mod_owner(int owner) => _io.io_mod_owner(owner);
        public Errno io_get_owner(out int owner) => _io.io_get_owner(out owner);
        public Errno io_get_icky_async_id(out PortName ickyAsyncIdPort) => _io.io_get_icky_async_id(out ickyAsyncIdPort);
        public Errno io_stat(out Stat statInfo) => _io.io_stat(out statInfo);
        public Errno io_reauthenticate(PortName rendezvous2) => _io.io_reauthenticate(rendezvous2);
        public Errno io_restrict_auth(out PortName newObject, ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids) => _io.io_restrict_auth(out newObject, uids, gids);
        public Errno io_duplicate(out PortName newport) => _io.io_duplicate(out newport);
        public Errno io_server_version(Span<byte> serverName, out int serverNameCount, out int serverMajorVersion, out int serverMinorVersion, out int serverEditLevel)
            => _io.io_server_version(serverName, out serverNameCount, out serverMajorVersion, out serverMinorVersion, out serverEditLevel);
        public Errno io_map(out PortName memobjrd, out PortName memobjwt) => _io.io_map(out memobjrd, out memobjwt);
        public Errno io_pathconf(PathConfName name, out int value) => _io.io_pathconf(name, out value);
        public Errno io_identity(out PortName idport, out PortName fsidport, out ulong fileno) => _io.io_identity(out idport, out fsidport, out fileno);
        public Errno io_revoke() => _io.io_revoke();
        public Errno io_select_timeout(in TimeSpec timeout, ref SelectType selectType) => _io.io_select_timeout(timeout, ref selectType);
    }

    [Fact(Timeout = 30_000)]
    public Task FileServer_DispatchesFsAndIoToOneProtid() => T.Run(() =>
    {
        var fs = new FakeFs();
        var io = new FakeIo();
        var protid = new Protid(fs, io);
        var t = new TestTransport((ref RpcRequest r) => FileServer.Dispatch(protid, ref r));
        Assert.Equal(Errno.OK, new FsClient(t).dir_mkdir("d"u8, (Hurd.Ipc.Abi.FileMode)0x1ed));
        Assert.Equal(1, fs.Calls);
        Assert.Equal(Errno.OK, new IoClient(t).io_stat(out var st));
        Assert.Equal(42ul, st.Ino);
        Assert.Equal(Errno.MIG_BAD_ID, new FsysClient(t).fsys_goaway(0));
    });

    /// <summary>A server that supports only io_stat, on the generated base.</summary>
    private sealed class StatOnly : IoBase
    {
        public override Errno io_stat(out Stat statInfo) { statInfo = default; statInfo.Ino = 5; return Errno.OK; }
    }

    [Fact(Timeout = 30_000)]
    public Task GeneratedBase_AnswersEOPNOTSUPP_ForWhatIsNotOverridden() => T.Run(() =>
    {
        var c = new IoClient(new TestTransport((ref RpcRequest r) => IoServer.Dispatch(new StatOnly(), ref r)));
        Assert.Equal(Errno.OK, c.io_stat(out var st));
        Assert.Equal(5ul, st.Ino);
        var buf = new byte[8];
        Assert.Equal(Errno.EOPNOTSUPP, c.io_read(buf, out int n, 0, 8));
        Assert.Equal(0, n);
        var sel = SelectType.Read;
        Assert.Equal(Errno.EOPNOTSUPP, c.io_select_timeout(default, ref sel));
        Assert.Equal(SelectType.Read, sel);
        Assert.Equal(Errno.OK, c.io_reauthenticate(PortName.Null)); // one-way: only the send's result
    });
}
