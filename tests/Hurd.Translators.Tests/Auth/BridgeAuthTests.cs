using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Tests.Auth;

/// <summary>
/// The FUSE bridge makes a non-root caller's ports through auth (auth_makeauth + io_reauthenticate) when it has an auth
/// handle, and falls back to io_restrict_auth when it has none or the translator has no auth server.
/// </summary>
[Collection("sdk-auth")]
public sealed class BridgeAuthTests(AuthServerFixture auth)
{
    private const int T = 120_000;

    private sealed class Header { public FuseInHeader H; }

    private static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0)
    {
        var box = new Header { H = new FuseInHeader { NodeId = node, Uid = uid, Gid = gid, Pid = 0, Unique = 2 } };
        return new FuseContext(in box.H, default, false, default);
    }

    private static void Run(SendRight? fsAuth, Func<SendRight?>? bridgeAuth, Action<ServedFilesystem, FuseBridge, PosixClient> body)
    {
        var tmp = new TmpfsFileSystem(TmpfsOptions.Default);
        var posix = new PosixClient(tmp.Root, Identity.Root);
        using var fs = new ServedFilesystem(tmp.Root, "tmpfs") { Auth = fsAuth };
        using var control = fs.Control.MakeSend();
        Assert.Equal(Errno.OK, FuseBridge.Connect(control, new FuseBridgeOptions { Auth = bridgeAuth }, out var bridge));
        using (bridge) body(fs, bridge!, posix);
    }

    private static void CallerIsItself(FuseBridge bridge, PosixClient posix)
    {
        Assert.Equal(Errno.OK, posix.WriteFile("secret", "s"));
        Assert.Equal(Errno.OK, posix.Chmod("secret", 0x180));
        Assert.Equal(Errno.OK, bridge.Mkdir(Ctx(1, 1000, 1000), "d"u8, new MkdirIn { Mode = 0x1ED }, out var d));
        Assert.Equal((1000u, 1000u), (d.Attr.Uid, d.Attr.Gid));
        Assert.Equal(Errno.OK, bridge.Lookup(Ctx(1, 1000, 1000), "secret"u8, out var s));
        Assert.Equal(Errno.EACCES, bridge.Open(Ctx(s.NodeId, 1000, 1000), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out _));
        Assert.Equal(Errno.OK, bridge.Open(Ctx(s.NodeId), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
        Assert.Equal(Errno.OK, bridge.Release(Ctx(s.NodeId), new ReleaseIn { Fh = o.Fh }));
        Assert.Equal(Errno.OK, bridge.Getattr(Ctx(1, 2000, 2000), default, out _));
    }

    [Fact(Timeout = T)]
    public Task Callers_GetTheirPortsThroughAuth_WhenTheBridgeHasAHandle() => Task.Run(() =>
    {
        using var handle = auth.RootHandle();
        Run(auth.RootHandle(), () => handle, (fs, bridge, posix) =>
        {
            CallerIsItself(bridge, posix);
            Assert.True(bridge.Auth.Reauthenticated >= 2); // (root node, 1000), (secret, 1000), (root node, 2000)...
            Assert.Equal(0, bridge.Auth.Restricted);
            Assert.Equal(bridge.Auth.Reauthenticated, fs.ReauthenticatedPorts);
        });
    });

    [Fact(Timeout = T)]
    public Task ManyCallers_AtOnce_AllGetTheirPortsThroughAuth() => Task.Run(() =>
    {
        using var handle = auth.RootHandle();
        Run(auth.RootHandle(), () => handle, (fs, bridge, posix) =>
        {
            const int Files = 40, Threads = 4;
            var ids = new ulong[Files];
            for (int i = 0; i < Files; i++)
            {
                Assert.Equal(Errno.OK, posix.WriteFile("f" + i, "x"));
                Assert.Equal(Errno.OK, bridge.Lookup(Ctx(1), Encoding.UTF8.GetBytes("f" + i), out var e));
                ids[i] = e.NodeId;
            }
            var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                uint uid = 3000 + (uint)t;
                for (int i = 0; i < Files; i++)
                {
                    var e = bridge.Getattr(Ctx(ids[(i + t * 7) % Files], uid, uid), default, out _);
                    if (e != Errno.OK) errors.Add($"uid {uid} file {i}: {e}");
                }
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            Assert.Empty(errors);
            Assert.Equal(Files * Threads, bridge.Auth.Reauthenticated);
            Assert.Equal(0, bridge.Auth.Restricted);
        });
    });

    [Fact(Timeout = T)]
    public Task Callers_FallBackToRestrictAuth_WithoutAnAuthServer() => Task.Run(() =>
    {
        // The bridge has no handle.
        Run(null, null, (fs, bridge, posix) =>
        {
            CallerIsItself(bridge, posix);
            Assert.Equal(0, bridge.Auth.Reauthenticated);
            Assert.True(bridge.Auth.Restricted >= 2);
        });
        // The bridge has one, the translator has no auth server: it refuses the rendezvous (EOPNOTSUPP).
        using var handle = auth.RootHandle();
        Run(null, () => handle, (fs, bridge, posix) =>
        {
            CallerIsItself(bridge, posix);
            Assert.Equal(0, bridge.Auth.Reauthenticated);
            Assert.True(bridge.Auth.Restricted >= 2);
            Assert.Equal(0, fs.ReauthenticatedPorts);
        });
    });
}

[Collection("sdk-auth")]
public sealed class BridgeAuthNonRootTests(AuthServerFixture auth)
{
    private sealed class Header { public FuseInHeader H; }

    private static FuseContext Ctx(ulong node, uint uid = 0, uint gid = 0)
    {
        var box = new Header { H = new FuseInHeader { NodeId = node, Uid = uid, Gid = gid, Pid = 0, Unique = 2 } };
        return new FuseContext(in box.H, default, false, default);
    }

    /// <summary>A bridge whose handle is not root's (a daemon run by uid 1000): its own ids go through auth, others'
    /// cannot be made (EPERM) and fall back to io_restrict_auth.</summary>
    [Fact(Timeout = 120_000)]
    public Task ABridgeWithAUsersHandle_MakesOnlyThatUsersPortsThroughAuth() => Task.Run(() =>
    {
        var tmp = new TmpfsFileSystem(TmpfsOptions.Default);
        using var fs = new ServedFilesystem(tmp.Root, "tmpfs") { Auth = auth.RootHandle() };
        using var control = fs.Control.MakeSend();
        using var handle = auth.Handle(new Identity([1000], [1000], [1000], [1000]));
        Assert.Equal(Errno.OK, FuseBridge.Connect(control, new FuseBridgeOptions { Auth = () => handle }, out var bridge));
        using (bridge)
        {
            Assert.Equal(Errno.OK, bridge!.Getattr(Ctx(1, 1000, 1000), default, out _));
            Assert.Equal(1, bridge.Auth.Reauthenticated);
            Assert.Equal(Errno.OK, bridge.Getattr(Ctx(1, 2000, 2000), default, out _));
            Assert.Equal(Errno.OK, bridge.Mkdir(Ctx(1, 2000, 2000), "d"u8, new MkdirIn { Mode = 0x1ED }, out var d));
            Assert.Equal(2000u, d.Attr.Uid);
            Assert.Equal(Errno.OK, bridge.Getattr(Ctx(d.NodeId, 1000, 1000), default, out _));
            Assert.Equal(2, bridge.Auth.Reauthenticated);
            Assert.True(bridge.Auth.Restricted >= 1);
        }
    });
}

/// <summary>Through a real FUSE mount: processes running as nobody reach the translator with ports made through
/// auth (the auth daemon a child process, the bridge and the served filesystem in this process).</summary>
[Collection("sdk-auth")]
public sealed class MountedBridgeAuthTests(AuthServerFixture auth)
{
    [Fact(Timeout = 120_000)]
    public async Task Nobody_ThroughTheMount_IsNobody_ByWayOfAuth()
    {
        if (!Bridge.BridgeMount.CanMount) return;
        var tmp = new TmpfsFileSystem(TmpfsOptions.Default);
        using var fs = new ServedFilesystem(tmp.Root, "tmpfs") { Auth = auth.RootHandle() };
        using var handle = auth.RootHandle();
        var options = new FuseBridgeOptions { Auth = () => handle, EntryTimeout = TimeSpan.Zero, AttrTimeout = TimeSpan.Zero };
        using var m = Bridge.BridgeMount.Start(fs.Control.MakeSend(), options);
        await m.Sh("echo secret > s && chmod 600 s && echo open > o && chmod 644 o");
        var denied = await m.Run("cat s", asNobody: true);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("Permission denied", denied.Stderr);
        Assert.Equal("open\n", await m.Sh("cat o", asNobody: true));
        await m.Sh("echo mine > n && mkdir nd", asNobody: true);
        Assert.Equal("65534 65534\n65534 65534\n", await m.Sh("stat -c '%u %g' n nd"));
        Assert.True(m.Bridge.Auth.Reauthenticated > 0);
        Assert.Equal(0, m.Bridge.Auth.Restricted);
        Assert.True(fs.ReauthenticatedPorts > 0);
    }
}
