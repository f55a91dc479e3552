using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Tests.Auth;

/// <summary>
/// io_reauthenticate, io_restrict_auth and io_duplicate of the serving layer, with the real auth daemon as a child
/// process: a port made by the rendezvous carries exactly the ids of the client's handle, on the same peropen; a
/// filesystem without an auth server refuses at once; restrict is an intersection except for root.
/// </summary>
[Collection("sdk-auth")]
public sealed class ReauthenticationTests(AuthServerFixture auth)
{
    private const int T = 120_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static (ServedFilesystem Fs, SendRight Root, PosixClient Posix) Serve()
    {
        var tmp = new TmpfsFileSystem(TmpfsOptions.Default);
        var fs = new ServedFilesystem(tmp.Root, "tmpfs");
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.Read, out var root));
        return (fs, root!, new PosixClient(tmp.Root, Identity.Root));
    }

    private static Errno Lookup(SendRight dir, string name, OpenFlags flags, out SendRight? result, FileMode mode = (FileMode)0x1A4)
    {
        result = null;
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = new FsClient(dir) { TimeoutMs = 30_000 }.dir_lookup(Encoding.UTF8.GetBytes(name), flags, mode, out var rt, retry, out int n, out var port);
        if (e != Errno.OK) return e;
        Assert.Equal(Hurd.Interfaces.RetryType.Normal, rt);
        Assert.Equal(0, n);
        result = SendRight.FromName(port.Name);
        return Errno.OK;
    }

    private static Identity User1000 => new([1000], [1000, 100], [1000, 1000], [1000, 1000]);

    [Fact(Timeout = T)]
    public Task Reauthenticate_GivesExactlyTheHandlesIds_OnTheSamePeropen() => Task.Run(() =>
    {
        var (fs, root, posix) = Serve();
        using (fs) using (root)
        {
            fs.Auth = auth.RootHandle();
            Assert.Equal(Errno.OK, posix.WriteFile("secret", "s"));
            Assert.Equal(Errno.OK, posix.Chmod("secret", 0x180)); // 0600, root's
            Assert.Equal(Errno.OK, Lookup(root, "f", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var f));
            using var user = auth.Handle(User1000);
            using (f)
            {
                Assert.Equal(Errno.OK, new IoClient(f!).io_write("abc"u8, -1, out _));
                Assert.Equal(Errno.OK, AuthPorts.Reauthenticate(f!, user, Wait, default, out var g));
                using (g)
                {
                    // The same peropen: the offset the first port moved is the new port's.
                    Assert.Equal(Errno.OK, new IoClient(g!).io_seek(0, SeekWhence.Current, out long pos));
                    Assert.Equal(3, pos);
                }
            }

            Assert.Equal(Errno.OK, AuthPorts.Reauthenticate(root, user, Wait, default, out var dir));
            using (dir)
            {
                // What the new port creates is uid 1000's, gid 1000's; what 1000 may not read stays closed.
                Assert.Equal(Errno.OK, Lookup(dir!, "mine", OpenFlags.Write | OpenFlags.Create, out var mine));
                using (mine)
                {
                    Assert.Equal(Errno.OK, new IoClient(mine!).io_stat(out var st));
                    Assert.Equal((1000u, 1000u), (st.Uid, st.Gid));
                }
                Assert.Equal(Errno.EACCES, Lookup(dir!, "secret", OpenFlags.Read, out _));
                // Its ids are the handle's, not more: restrict cannot widen them again.
                Assert.Equal(Errno.OK, new IoClient(dir!).io_restrict_auth(out var r0, [0u, 1000u], [0u, 100u]));
                using var restricted = SendRight.FromName(r0)!;
                Assert.Equal(Errno.EACCES, Lookup(restricted, "secret", OpenFlags.Read, out _));
                Assert.Equal(Errno.OK, Lookup(restricted, "mine2", OpenFlags.Write | OpenFlags.Create, out var mine2));
                using (mine2)
                {
                    Assert.Equal(Errno.OK, new IoClient(mine2!).io_stat(out var st));
                    Assert.Equal((1000u, 100u), (st.Uid, st.Gid)); // gid 1000 was not asked for; 100 was
                }
            }
            Assert.True(fs.ReauthenticatedPorts >= 2);

            // A handle with no ids at all gives an unauthenticated port: "other" permissions only.
            using var none = auth.Handle(Identity.Unauthenticated);
            Assert.Equal(Errno.OK, AuthPorts.Reauthenticate(root, none, Wait, default, out var anon));
            using (anon) Assert.Equal(Errno.EACCES, Lookup(anon!, "secret", OpenFlags.Read, out _));
        }
    });

    [Fact(Timeout = T)]
    public Task Reauthenticate_WithoutAnAuthServer_IsRefusedAtOnce() => Task.Run(() =>
    {
        var (fs, root, _) = Serve();
        using (fs) using (root)
        {
            Assert.Null(fs.Auth);
            using var user = auth.Handle(User1000);
            // The server has no auth handle: its refusal notice ends the client's wait (no deadline reached).
            Assert.Equal(Errno.EOPNOTSUPP, AuthPorts.Reauthenticate(root, user, TimeSpan.FromMinutes(10), default, out var p));
            Assert.Null(p);
            // The filesystem keeps serving, and nothing is left pending.
            Assert.Equal(Errno.OK, new IoClient(root).io_stat(out _));
        }
    });

    [Fact(Timeout = T)]
    public Task Reauthenticate_OnADeadAuthHandle_FailsWithoutWaiting() => Task.Run(() =>
    {
        var (fs, root, _) = Serve();
        using (fs) using (root)
        {
            fs.Auth = auth.RootHandle();
            using var fake = new ReceivePort(); // not an auth handle: no handler, so the call ends at once
            using var right = fake.MakeSend();
            var e = AuthPorts.Reauthenticate(root, right, TimeSpan.FromMinutes(10), default, out var p);
            Assert.NotEqual(Errno.OK, e);
            Assert.Null(p);
        }
    });

    [Fact(Timeout = T)]
    public Task RestrictAuth_IsTheIntersection_ExceptForRoot_AndDuplicateKeepsIdsAndOffset() => Task.Run(() =>
    {
        var (fs, root, posix) = Serve();
        using (fs) using (root)
        {
            Assert.Equal(Errno.OK, posix.WriteFile("g100", "x"));
            Assert.Equal(Errno.OK, posix.Chown("g100", 0, 100));
            Assert.Equal(Errno.OK, posix.Chmod("g100", 0x120)); // 0440: group 100 may read

            // Root may take any ids.
            Assert.Equal(Errno.OK, new IoClient(root).io_restrict_auth(out var n1, [1000u, 2000u], [1000u, 100u]));
            using var u = SendRight.FromName(n1)!;
            Assert.Equal(Errno.OK, Lookup(u, "g100", OpenFlags.Read, out var ok));
            ok!.Dispose();
            // A user keeps only what it holds and was asked for, in its own order.
            Assert.Equal(Errno.OK, new IoClient(u).io_restrict_auth(out var n2, [3000u, 2000u, 1000u, 0u], [0u, 1000u]));
            using var v = SendRight.FromName(n2)!;
            Assert.Equal(Errno.EACCES, Lookup(v, "g100", OpenFlags.Read, out _)); // group 100 dropped
            Assert.Equal(Errno.OK, Lookup(v, "made", OpenFlags.Write | OpenFlags.Create, out var made));
            using (made)
            {
                Assert.Equal(Errno.OK, new IoClient(made!).io_stat(out var st));
                Assert.Equal((1000u, 1000u), (st.Uid, st.Gid)); // 1000 stays first; 0 was never held
                // io_duplicate: same ids, same peropen.
                Assert.Equal(Errno.OK, new IoClient(made!).io_write("12345"u8, -1, out _));
                Assert.Equal(Errno.OK, new IoClient(made!).io_duplicate(out var d));
                using var dup = SendRight.FromName(d)!;
                Assert.Equal(Errno.OK, new IoClient(dup).io_seek(0, SeekWhence.Current, out long pos));
                Assert.Equal(5, pos);
                Assert.Equal(Errno.OK, new IoClient(dup).io_stat(out var st2));
                Assert.Equal(st.Ino, st2.Ino);
                Assert.Equal(Errno.OK, new FsClient(dup).file_check_access(out var allowed));
                Assert.Equal(OpenFlags.Read | OpenFlags.Write, allowed & (OpenFlags.Read | OpenFlags.Write));
            }
            // Nothing held, nothing asked: unauthenticated.
            Assert.Equal(Errno.OK, new IoClient(v).io_restrict_auth(out var n3, [], []));
            using var w = SendRight.FromName(n3)!;
            Assert.Equal(Errno.EACCES, Lookup(w, "g100", OpenFlags.Read, out _));
        }
    });
}
