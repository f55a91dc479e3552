namespace Hurd.Translators.Tests.Bridge;

using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Serving;

/// <summary>
/// The bridge on a real FUSE mount (root only; skipped otherwise) over tmpfs nodes, driven by ordinary programs run
/// as child processes. Every test unmounts in finally (BridgeMount.Dispose). The same scenarios run over the SDK's
/// serving layer (<see cref="ServedBridgeMountTests"/>) and over the tests' <see cref="MiniFs"/> (<see cref="MiniBridgeMountTests"/>).
/// </summary>
public abstract class BridgeMountTests
{
    private const int T = 120_000;

    /// <summary>Serves the tree at <paramref name="root"/>; returns what to dispose and a control port (owned by the caller).</summary>
    protected abstract IDisposable Serve(Node root, out SendRight control);

    /// <summary>Makes the filesystem behind <paramref name="inner"/> the active translator of directory
    /// <paramref name="name"/> of the outer filesystem (root <paramref name="outerRoot"/>, control <paramref name="outer"/>).</summary>
    protected abstract void AttachTranslator(Node outerRoot, SendRight outer, string name, SendRight inner);

    private BridgeMount Mount(Node root, out IDisposable server)
    {
        server = Serve(root, out var control);
        try { return BridgeMount.Start(control); }
        catch { server.Dispose(); throw; }
    }

    [Fact(Timeout = T)]
    public async Task Coreutils_ThroughTheBridge_BehaveAsOnAnyFilesystem()
    {
        if (!BridgeMount.CanMount) return;
        var tmp = new TmpfsFileSystem();
        using var m = Mount(tmp.Root, out var server);
        using var _ = server;
        await m.Sh("printf 'Hello, world!\\n' > hello");
        Assert.Equal("Hello, world!\n", await m.Sh("cat hello"));
        Assert.Equal("14 regular file\n", await m.Sh("stat -c '%s %F' hello"));
        await m.Sh("echo x > f && echo yz >> f");
        Assert.Equal("x\nyz\n", await m.Sh("cat f"));
        await m.Sh("mkdir d && mv f d/g");
        Assert.Equal("g\n", await m.Sh("ls d"));
        Assert.Equal("directory\n", await m.Sh("stat -c %F d"));
        await m.Sh("ln -s g d/l && ln d/g d/h");
        Assert.Equal("g\n", await m.Sh("readlink d/l"));
        Assert.Equal("x\nyz\n", await m.Sh("cat d/l"));
        Assert.Equal("2\n", await m.Sh("stat -c %h d/g"));
        Assert.Equal(await m.Sh("stat -c %i d/g"), await m.Sh("stat -c %i d/h"));
        string ls = await m.Sh("ls -l d");
        Assert.Contains("l -> g", ls);
        Assert.Contains(" g\n", ls);
        await m.Sh("chmod 600 d/g && truncate -s 2 d/g && touch -m -d @1000000000 d/g");
        Assert.Equal("600 2 1000000000\n", await m.Sh("stat -c '%a %s %Y' d/g"));
        Assert.Equal("x\n", await m.Sh("cat d/h"));
        await m.Sh("echo new > d/g");
        Assert.Equal("new\n", await m.Sh("cat d/h"));
        var rmdirFull = await m.Run("rmdir d");
        Assert.NotEqual(0, rmdirFull.ExitCode);
        Assert.Contains("Directory not empty", rmdirFull.Stderr);
        await m.Sh("rm d/g d/l d/h && rmdir d");
        Assert.Equal("hello\n", await m.Sh("ls -A"));
        var missing = await m.Run("cat nope");
        Assert.Contains("No such file or directory", missing.Stderr);
        await m.Sh("mkfifo p && mknod c c 1 3");
        Assert.Equal("fifo\ncharacter special file 1 3\n", await m.Sh("stat -c %F p && stat -c '%F %t %T' c"));
        await m.Sh("head -c 3145728 /dev/urandom > /tmp/hurd-bridge-big.$$ && cp /tmp/hurd-bridge-big.$$ big && cmp /tmp/hurd-bridge-big.$$ big; r=$?; rm -f /tmp/hurd-bridge-big.$$; exit $r");
        Assert.Equal("3145728\n", await m.Sh("stat -c %s big"));
        await m.Sh("setfattr -n user.color -v blue hello 2>/dev/null || python3 -c \"import os; os.setxattr('hello', 'user.color', b'blue')\"");
        Assert.Contains("blue", await m.Sh("python3 -c \"import os; print(os.getxattr('hello', 'user.color').decode(), os.listxattr('hello'))\""));
        Assert.Matches(@"^\d+ \d+\n$", await m.Sh("stat -f -c '%b %a' ."));
    }

    [Fact(Timeout = T)]
    public async Task TwoIdentities_GetDifferentResults_OnA0600File()
    {
        if (!BridgeMount.CanMount) return;
        var tmp = new TmpfsFileSystem();
        using var m = Mount(tmp.Root, out var server);
        using var _ = server;
        await m.Sh("echo secret > s && chmod 600 s && echo open > o && chmod 644 o");
        Assert.Equal("secret\n", await m.Sh("cat s"));
        var denied = await m.Run("cat s", asNobody: true);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("Permission denied", denied.Stderr);
        Assert.Equal("open\n", await m.Sh("cat o", asNobody: true));
        var write = await m.Run("echo x >> o", asNobody: true);
        Assert.Contains("Permission denied", write.Stderr);
        Assert.NotEqual(0, (await m.Run("test -r s", asNobody: true)).ExitCode); // ACCESS goes to the translator
        Assert.Equal(0, (await m.Run("test -r s")).ExitCode);
        // What nobody creates is nobody's: the translator saw nobody's ids.
        await m.Sh("echo mine > n && mkdir nd", asNobody: true);
        Assert.Equal("65534 65534\n65534 65534\n", await m.Sh("stat -c '%u %g' n nd"));
        var chown = await m.Run("chown 0 n", asNobody: true);
        Assert.NotEqual(0, chown.ExitCode);
        Assert.Contains("not permitted", chown.Stderr);
        // Root still reads and removes it.
        Assert.Equal("mine\n", await m.Sh("cat n"));
        await m.Sh("rm n && rmdir nd");
    }

    [Fact(Timeout = T)]
    public async Task ATranslatorInsideTheTree_AppearsInTheSameMount()
    {
        if (!BridgeMount.CanMount) return;
        var outer = new TmpfsFileSystem();
        var inner = new TmpfsFileSystem();
        Assert.Equal(Errno.OK, new PosixClient(inner.Root, Identity.Root).WriteFile("inner.txt", "deep\n"));
        Assert.Equal(Errno.OK, new PosixClient(outer.Root, Identity.Root).Mkdir("mnt"));
        Assert.Equal(Errno.OK, new PosixClient(outer.Root, Identity.Root).Resolve("mnt", out var mnt));
        using var innerServer = Serve(inner.Root, out var innerControl);
        using var outerServer = Serve(outer.Root, out var outerControl);
        try
        {
            AttachTranslator(outer.Root, outerControl, "mnt", innerControl);
            using var m = BridgeMount.Start(outerControl.Copy());
            Assert.Equal("deep\n", await m.Sh("cat mnt/inner.txt"));
            Assert.Equal("inner.txt\n", await m.Sh("ls mnt"));
            await m.Sh("echo made > mnt/new && mkdir mnt/sub && echo x > mnt/sub/y");
            Assert.Equal("made\n", await m.Sh("cat mnt/new"));
            Assert.Equal("inner.txt\nnew\nsub\n", await m.Sh("ls mnt"));
            Assert.Equal("x\n", await m.Sh("cat mnt/sub/y"));
            // The files live in the inner filesystem, not in the outer one.
            Assert.Equal(Errno.OK, inner.Root.Lookup("new"u8, out _));
            Assert.Equal(Errno.ENOENT, ((IDirectory)mnt).Lookup("new"u8, out _));
            // (dev, ino) pairs stay distinct across the two filesystems even where inode numbers collide.
            var inos = (await m.Sh("stat -c %i . mnt mnt/inner.txt mnt/new")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(inos.Length, inos.Distinct().Count());
            await m.Sh("rm -r mnt/sub mnt/new");
            Assert.Equal("inner.txt\n", await m.Sh("ls mnt"));
        }
        finally
        {
            outerControl.Dispose();
            innerControl.Dispose();
            (mnt.ActiveTranslator as IDisposable)?.Dispose();
            mnt.ActiveTranslator = null;
        }
    }
}

/// <summary>The mount scenarios over the SDK's serving layer (<see cref="ServedFilesystem"/>).</summary>
[Collection("bridge-mounts")]
public sealed class ServedBridgeMountTests : BridgeMountTests
{
    protected override IDisposable Serve(Node root, out SendRight control)
    {
        var fs = new ServedFilesystem(root, "tmpfs");
        control = fs.Control.MakeSend();
        return fs;
    }

    protected override void AttachTranslator(Node outerRoot, SendRight outer, string name, SendRight inner)
    {
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        Assert.Equal(Errno.OK, new FsysClient(outer).fsys_getroot(PortName.Null, [0u], [0u], OpenFlags.None, out _, retry, out _, out var root));
        using var rootPort = SendRight.FromName(root.Name)!;
        Assert.Equal(Errno.OK, new FsClient(rootPort).dir_lookup(Encoding.UTF8.GetBytes(name), OpenFlags.NoTrans, 0, out _, retry, out _, out var node));
        using var nodePort = SendRight.FromName(node.Name)!;
        Assert.Equal(Errno.OK, new FsClient(nodePort).file_set_translator(TransFlags.None, TransFlags.Set, GoAwayFlags.None, default, inner.Name));
    }
}

/// <summary>The mount scenarios over the tests' small server (<see cref="MiniFs"/>).</summary>
[Collection("bridge-mounts")]
public sealed class MiniBridgeMountTests : BridgeMountTests
{
    protected override IDisposable Serve(Node root, out SendRight control)
    {
        var fs = new MiniFs(root);
        control = fs.MakeControl();
        return fs;
    }

    protected override void AttachTranslator(Node outerRoot, SendRight outer, string name, SendRight inner)
    {
        Assert.Equal(Errno.OK, new PosixClient(outerRoot, Identity.Root).Resolve(name, out var node));
        node.ActiveTranslator = inner.Copy();
    }
}
