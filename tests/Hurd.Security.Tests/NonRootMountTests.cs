namespace Hurd.Security.Tests;

/// <summary>
/// Issue 3: a user who is not root mounts a translator with `hurd settrans -a`, through fusermount3 (the setuid helper
/// opens /dev/fuse, mounts, and passes the descriptor back over the socket named in _FUSE_COMMFD), and takes it away
/// with `hurd settrans -g` (fusermount3 -u). Without user_allow_other in /etc/fuse.conf the mount is for its owner only
/// (fusermount3 refuses allow_other to users): then even root gets EACCES, which the test checks.
/// </summary>
public sealed class NonRootMountTests
{
    const int T = 240_000;

    /// <summary>fusermount3 opens /dev/fuse as the calling user. Distributions make it 0666 (udev's rule); a machine
    /// without udev (this VM's devtmpfs) has 0600, and no user but root can mount FUSE at all. The test sets the
    /// distribution default, which it does not undo (another test may be mounting as a user at the same time).</summary>
    static void LetUsersOpenDevFuse()
    {
        var mode = File.GetUnixFileMode("/dev/fuse");
        const UnixFileMode rw = UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((mode & rw) != rw)
        {
            Console.WriteLine("/dev/fuse was " + mode + ": set to 0666, the udev default");
            File.SetUnixFileMode("/dev/fuse", mode | rw | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        }
    }

    static bool UserAllowOther()
    {
        try { return File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == "user_allow_other"); }
        catch (IOException) { return false; }
    }

    [Fact(Timeout = T)]
    public async Task Nobody_MountsHelloAndTmpfsThroughFusermount_AndTakesThemAway()
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        string? fusermount = new[] { "/usr/bin/fusermount3", "/bin/fusermount3" }.FirstOrDefault(File.Exists);
        if (fusermount is null) { Console.WriteLine("skipped: no fusermount3"); return; }
        // fusermount3 works only through its setuid bit; a sandbox (no_new_privs) takes that away.
        if ((File.GetUnixFileMode(fusermount) & UnixFileMode.SetUser) == 0
            || File.ReadLines("/proc/self/status").Any(l => l.StartsWith("NoNewPrivs:", StringComparison.Ordinal) && l.Trim().EndsWith('1')))
        { Console.WriteLine("skipped: fusermount3 cannot act as root here"); return; }
        LetUsersOpenDevFuse();
        using var w = new World("mount");
        string home = w.PathOf("home");
        Directory.CreateDirectory(home);
        Assert.Equal(0, w.Exec(User.Root, "chown", ["65534:65534", home, w.Runtime]).ExitCode);
        string hi = Path.Combine(home, "hi"), d = Path.Combine(home, "d");

        // hello on a file node
        Assert.Equal(0, w.Exec(User.Nobody, "touch", [hi]).ExitCode);
        var r = w.Hurd(User.Nobody, "settrans", "-ac", hi, "hello");
        Assert.True(r.ExitCode == 0, "settrans -ac hello as nobody: " + r);
        var line = File.ReadLines("/proc/self/mountinfo").FirstOrDefault(l => l.Split(' ').ElementAtOrDefault(4) == hi);
        Assert.True(line is not null, "no mount at " + hi);
        Assert.Contains("fuse.hello", line);
        Assert.Contains("user_id=65534", line);
        r = w.Exec(User.Nobody, "cat", [hi], timeoutMs: 30_000);
        Assert.Equal("Hello, world!\n", r.Out);
        r = w.Exec(User.Root, "cat", [hi], timeoutMs: 30_000);
        if (UserAllowOther()) Assert.Equal("Hello, world!\n", r.Out);
        else Assert.True(r.ExitCode != 0 && r.Err.Contains("Permission denied"), "root reads a mount without allow_other: " + r);
        Assert.Equal("hello", w.Hurd(User.Nobody, "showtrans", hi).Out.Trim());

        // tmpfs on a directory: the user's files belong to the user
        Directory.CreateDirectory(d);
        Assert.Equal(0, w.Exec(User.Root, "chown", ["65534:65534", d]).ExitCode);
        r = w.Hurd(User.Nobody, "settrans", "-a", d, "tmpfs");
        Assert.True(r.ExitCode == 0, "settrans -a tmpfs as nobody: " + r);
        Assert.Equal(0, w.Exec(User.Nobody, "sh", ["-c", $"echo x > {d}/f && mkdir {d}/sub"]).ExitCode);
        r = w.Exec(User.Nobody, "stat", ["-c", "%u:%g %a %n", $"{d}/f", $"{d}/sub"]);
        Assert.Equal($"65534:65534 644 {d}/f\n65534:65534 755 {d}/sub\n", r.Out);

        // -g unmounts (fusermount3 -u) and the daemons exit
        foreach (var node in new[] { hi, d })
        {
            r = w.Hurd(User.Nobody, "settrans", "-g", node);
            Assert.True(r.ExitCode == 0, $"settrans -g {node} as nobody: " + r);
        }
        Assert.Empty(w.Mounts());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (w.Processes().Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Empty(w.Processes());
    }
}
