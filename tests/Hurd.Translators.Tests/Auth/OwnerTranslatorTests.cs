using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Tests.Auth;

/// <summary>
/// Passive translators start as the node's owner (fshelp_fetch_root): the parent makes an auth handle for the owner
/// with auth_makeauth and hands it to the child, which runs with the owner's uid and gid. The translator is the
/// test-whoami program, which reports its pid, its process's ids and its handle's ids; the rendezvous then runs across
/// processes (the server's half in that child).
/// </summary>
[Collection("sdk-auth")]
public sealed class OwnerTranslatorTests(AuthServerFixture auth)
{
    private const int T = 180_000;

    private static Errno Lookup(SendRight dir, string name, OpenFlags flags, out SendRight? result, FileMode mode = (FileMode)0x1A4)
    {
        result = null;
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = new FsClient(dir) { TimeoutMs = 60_000 }.dir_lookup(Encoding.UTF8.GetBytes(name), flags, mode, out var rt, retry, out int n, out var port);
        if (e != Errno.OK) return e;
        result = SendRight.FromName(port.Name);
        Assert.Equal(Hurd.Interfaces.RetryType.Normal, rt);
        Assert.Equal(0, n); // the translator's root, nothing left to walk
        return Errno.OK;
    }

    private static Dictionary<string, string> Read(SendRight file)
    {
        var buf = new byte[4096];
        Assert.Equal(Errno.OK, new IoClient(file) { TimeoutMs = 60_000 }.io_read(buf, out int n, 0, buf.Length));
        return Encoding.UTF8.GetString(buf, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    private static string StatusIds(int pid, string key) =>
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim();

    [Fact(Timeout = T)]
    public Task PassiveTranslator_OnANodeOwnedByNobody_RunsAsNobody_WithNobodysHandle() => Task.Run(() =>
    {
        if (Environment.UserName != "root") return; // switching the child to another user needs root
        var tmp = new TmpfsFileSystem(TmpfsOptions.Default);
        var posix = new PosixClient(tmp.Root, Identity.Root);
        Assert.Equal(Errno.OK, posix.WriteFile("who", ""));
        Assert.Equal(Errno.OK, posix.Chown("who", Identity.NobodyId, Identity.NobodyId));
        Assert.Equal(Errno.OK, posix.WriteFile("rootwho", ""));
        using var fs = new ServedFilesystem(tmp.Root, "tmpfs") { Auth = auth.RootHandle() };
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.Read, out var root));
        using (root)
        {
            foreach (var name in new[] { "who", "rootwho" })
            {
                Assert.Equal(Errno.OK, Lookup(root!, name, OpenFlags.NoTrans, out var node));
                using (node) Assert.Equal(Errno.OK, new FsClient(node!).file_set_translator(TransFlags.Set, 0, 0, "test-whoami\0"u8, PortName.Null));
            }

            Assert.Equal(Errno.OK, Lookup(root!, "who", OpenFlags.Read, out var who));
            using (who)
            {
                var r = Read(who!);
                int pid = int.Parse(r["pid"]);
                Assert.Equal("uid 65534 gid 65534", r["process"]);
                Assert.Equal("euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]", r["auth"]);
                Assert.Equal("65534\t65534\t65534\t65534", StatusIds(pid, "Uid"));
                Assert.Equal("65534\t65534\t65534\t65534", StatusIds(pid, "Gid"));
                Assert.Equal("", StatusIds(pid, "Groups"));

                // The rendezvous across processes: the translator (as nobody) is the server's half.
                using var user = auth.Handle(new Identity([1000], [1000, 100], [1000], [1000]));
                Assert.Equal(Errno.OK, AuthPorts.Reauthenticate(who!, user, TimeSpan.FromSeconds(60), default, out var mine));
                using (mine)
                {
                    // test-whoami reports the reader's first uid and gid as the owner: the port carries 1000's ids.
                    Assert.Equal(Errno.OK, new IoClient(mine!).io_stat(out var st));
                    Assert.Equal((1000u, 1000u), (st.Uid, st.Gid));
                }
            }

            // A node owned by root: the translator runs as root, with a root handle.
            Assert.Equal(Errno.OK, Lookup(root!, "rootwho", OpenFlags.Read, out var rootwho));
            using (rootwho)
            {
                var r = Read(rootwho!);
                Assert.Equal("uid 0 gid 0", r["process"]);
                Assert.Equal("euids=[0] auids=[0,0] egids=[0] agids=[0,0]", r["auth"]);
            }
        }
    });

    [Fact(Timeout = T)]
    public Task PassiveTranslator_WithoutAnAuthServer_RunsAsTheNodesOwner_WithoutAHandle() => Task.Run(() =>
    {
        if (Environment.UserName != "root") return;
        var tmp = new TmpfsFileSystem(TmpfsOptions.Default);
        var posix = new PosixClient(tmp.Root, Identity.Root);
        Assert.Equal(Errno.OK, posix.WriteFile("who", ""));
        Assert.Equal(Errno.OK, posix.Chown("who", Identity.NobodyId, Identity.NobodyId));
        using var fs = new ServedFilesystem(tmp.Root, "tmpfs");
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.Read, out var root));
        using (root)
        {
            Assert.Equal(Errno.OK, Lookup(root!, "who", OpenFlags.NoTrans, out var node));
            using (node) Assert.Equal(Errno.OK, new FsClient(node!).file_set_translator(TransFlags.Set, 0, 0, "test-whoami\0"u8, PortName.Null));
            Assert.Equal(Errno.OK, Lookup(root!, "who", OpenFlags.Read, out var who));
            using (who)
            {
                var r = Read(who!);
                Assert.Equal("uid 65534 gid 65534", r["process"]);
                // No handle from the parent: the child asks the auth server of its own bootstrap directory, if any, which
                // can only give it its own ids.
                Assert.Contains(r["auth"], new[] { "none", "euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]" });
            }
        }
    });
}
