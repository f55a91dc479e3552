using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>An auth server for the tests: one fixed handle.</summary>
public sealed class FakeAuth : IAuth
{
    public uint[] EUids = [1000], AUids = [1000, 1000], EGids = [1000, 27, 100], AGids = [1000, 1000];
    public PortName[] LastOthers = [];
    public uint[] LastEUids = [];
    public PortName LastRendezvous;
    public PortRight LastNewport;

    private static int Put(ReadOnlySpan<uint> src, Span<uint> dst) { src.CopyTo(dst); return src.Length; }

    public Errno auth_getids(Span<uint> euids, out int euidsCount, Span<uint> auids, out int auidsCount, Span<uint> egids, out int egidsCount, Span<uint> agids, out int agidsCount)
    {
        euidsCount = Put(EUids, euids); auidsCount = Put(AUids, auids); egidsCount = Put(EGids, egids); agidsCount = Put(AGids, agids);
        return Errno.OK;
    }

    public Errno auth_makeauth(ReadOnlySpan<PortName> otherHandles, ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids, ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids, out PortName newhandle)
    {
        LastOthers = otherHandles.ToArray(); LastEUids = euids.ToArray();
        newhandle = euids.Contains(0u) ? default : new PortName(50);
        return euids.Contains(0u) ? Errno.EPERM : Errno.OK;
    }

    public Errno auth_user_authenticate(PortName rendezvous, out PortName newport) { LastRendezvous = rendezvous; newport = new PortName(60); return Errno.OK; }

    public Errno auth_server_authenticate(PortName rendezvous, PortRight newport, Span<uint> euids, out int euidsCount, Span<uint> auids, out int auidsCount, Span<uint> egids, out int egidsCount, Span<uint> agids, out int agidsCount)
    {
        LastRendezvous = rendezvous; LastNewport = newport;
        return auth_getids(euids, out euidsCount, auids, out auidsCount, egids, out egidsCount, agids, out agidsCount);
    }
}

public class AuthProcTests
{
    [Fact(Timeout = 30_000)]
    public Task AuthAndProcIds_MatchTheDefsFiles() => T.Run(() =>
    {
        Assert.Equal(25000u, AuthServer.Ids.auth_getids);
        Assert.Equal(25001u, AuthServer.Ids.auth_makeauth);
        Assert.Equal(25002u, AuthServer.Ids.auth_user_authenticate);
        Assert.Equal(25003u, AuthServer.Ids.auth_server_authenticate);
        Assert.Equal(24005u, ProcServer.Ids.proc_getallpids);
        Assert.Equal(24011u, ProcServer.Ids.proc_reauthenticate);
        Assert.Equal(24012u, ProcServer.Ids.proc_child);
        Assert.Equal(24016u, ProcServer.Ids.proc_getpids);
        Assert.Equal(24019u, ProcServer.Ids.proc_getmsgport);
        Assert.Equal(24020u, ProcServer.Ids.proc_wait);
        Assert.Equal(24025u, ProcServer.Ids.proc_mark_exit);
        Assert.Equal(24033u, ProcServer.Ids.proc_pid2proc);
        Assert.Equal(24034u, ProcServer.Ids.proc_getprocinfo);
        Assert.Equal(24042u, ProcServer.Ids.proc_setsid);
        Assert.Equal(24049u, ProcServer.Ids.proc_getpgrppids);
        Assert.Equal(24062u, ProcServer.Ids.proc_waitid);
        Assert.Equal(24064u, ProcServer.Ids.proc_reauthenticate_complete);
    });

    [Fact(Timeout = 30_000)]
    public Task AuthGetids_FourIdVectors_RoundTrip() => T.Run(() =>
    {
        var auth = new FakeAuth();
        var t = new TestTransport((ref RpcRequest r) => AuthServer.Dispatch(auth, ref r));
        var c = new AuthClient(t);
        uint[] eu = new uint[8], au = new uint[8], eg = new uint[8], ag = new uint[8];
        Assert.Equal(Errno.OK, c.auth_getids(eu, out int neu, au, out int nau, eg, out int neg, ag, out int nag));
        Assert.Equal([1000u], eu[..neu]);
        Assert.Equal([1000u, 1000u], au[..nau]);
        Assert.Equal([1000u, 27u, 100u], eg[..neg]);
        Assert.Equal([1000u, 1000u], ag[..nag]);
        Assert.Equal(Hex.Norm("00000000 04000000 e8030000 08000000 e8030000 e8030000 0c000000 e8030000 1b000000 64000000 08000000 e8030000 e8030000"), Hex.Of(t.LastReply));
    });

    [Fact(Timeout = 30_000)]
    public Task AuthMakeauth_PortArrayAndIdVectors_RoundTrip() => T.Run(() =>
    {
        var auth = new FakeAuth();
        var t = new TestTransport((ref RpcRequest r) => AuthServer.Dispatch(auth, ref r));
        var c = new AuthClient(t);
        Assert.Equal(Errno.OK, c.auth_makeauth([new PortName(3), new PortName(4)], [1000u], [1000u], [1000u], [1000u], out var h));
        Assert.Equal(new PortName(50), h);
        Assert.Equal([new PortName(3), new PortName(4)], auth.LastOthers);
        Assert.Equal([1000u], auth.LastEUids);
        Assert.Equal(Errno.EPERM, c.auth_makeauth([], [0u], [], [], [], out h));
        Assert.True(h.IsNull);
    });

    [Fact(Timeout = 30_000)]
    public Task AuthRendezvous_DispositionsAreTheHurds() => T.Run(() =>
    {
        var auth = new FakeAuth();
        var t = new TestTransport((ref RpcRequest r) => AuthServer.Dispatch(auth, ref r));
        var c = new AuthClient(t);
        Assert.Equal(Errno.OK, c.auth_user_authenticate(new PortName(9), out var np));
        Assert.Equal([new RightDescriptor(new PortName(9), Disposition.MakeSend)], t.LastRequestRights);
        Assert.Equal([new RightDescriptor(new PortName(60), Disposition.MoveSend)], t.LastReplyRights);
        Assert.Equal(new PortName(60), np);

        var ids = new uint[4];
        Assert.Equal(Errno.OK, c.auth_server_authenticate(new PortName(9), PortRight.MakeSend(new PortName(11)),
            ids, out int n, new uint[4], out _, new uint[4], out _, new uint[4], out _));
        Assert.Equal(1, n);
        Assert.Equal(PortRight.MakeSend(new PortName(11)), auth.LastNewport);
    });

    [Fact(Timeout = 30_000)]
    public Task IntArrays_InAndOut_RoundTrip() => T.Run(() =>
    {
        var impl = new KindsImpl();
        var t = new TestTransport((ref RpcRequest r) => KindsServer.Dispatch(impl, ref r));
        var outv = new int[4];
        Assert.Equal(Errno.OK, new KindsClient(t).ints([1, -2, 3], outv, out int n));
        Assert.Equal([-1, 2, -3], outv[..n]);
        Assert.Equal(Hex.Norm("0c000000 01000000 feffffff 03000000"), Hex.Of(t.LastRequest));
    });

    private sealed class FakeNotify : IFsNotify
    {
        public List<string> Got = [];
        public Errno dir_changed(uint tickno, DirChangedType change, ReadOnlySpan<byte> name) { Got.Add($"dir {tickno} {change} {System.Text.Encoding.UTF8.GetString(name)}"); return Errno.OK; }
        public Errno file_changed(uint tickno, FileChangedType change, long start, long end) { Got.Add($"file {tickno} {change} {start} {end}"); return Errno.OK; }
    }

    [Fact(Timeout = 30_000)]
    public Task FsNotify_IsOneWay_AtTheHurdsIds() => T.Run(() =>
    {
        Assert.Equal(20500u, FsNotifyServer.Ids.dir_changed);
        Assert.Equal(20501u, FsNotifyServer.Ids.file_changed);
        var n = new FakeNotify();
        var t = new TestTransport((ref RpcRequest r) => FsNotifyServer.Dispatch(n, ref r));
        var c = new FsNotifyClient(t);
        Assert.Equal(Errno.OK, c.dir_changed(1, DirChangedType.New, "x"u8));
        Assert.True(t.LastWasOneWay);
        Assert.Equal(Hex.Norm("01000000 01000000 01000000 78000000"), Hex.Of(t.LastRequest));
        Assert.Equal(Errno.OK, c.file_changed(2, FileChangedType.Write, 0, 4096));
        Assert.Equal(["dir 1 New x", "file 2 Write 0 4096"], n.Got);
    });
}
