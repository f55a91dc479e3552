namespace Hurd.Cli.Tests;

/// <summary>
/// `hurd settrans` / `showtrans` / `fsysopts` against the real hello and tmpfs daemons, mounted through
/// FUSE on nodes of a private temporary directory. Every test ends by checking that nothing is left
/// (no daemon, record or mount); the sandbox clears up whatever a failing test left behind.
/// </summary>
[Collection("daemons")]
public class TranslatorTests
{
    private static void Ok(Run r) => Assert.True(r.ExitCode == 0, r.ToString());

    private static void NothingLeft(Sandbox s) => Assert.True(s.NothingLeft(out var what), "left behind: " + what);

    [Fact(Timeout = 300_000)]
    public async Task Hello_is_mounted_shown_reconfigured_and_taken_away()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string hi = s.PathOf("hi");
            Ok(s.Hurd("settrans", "-ac", hi, "hello"));
            Assert.Equal("Hello, world!\n", s.Cat(hi).Out);

            var r = s.Hurd("showtrans", hi);
            Ok(r);
            Assert.Equal("hello", r.Out.Trim());

            r = s.Hurd("fsysopts", hi);
            Ok(r);
            Assert.Equal("hello --contents=Hello, world!", r.Out.Trim());

            Ok(s.Hurd("fsysopts", hi, "--contents=Changed at run time"));
            Assert.Equal("Changed at run time", s.Cat(hi).Out);

            r = s.Hurd("fsysopts", hi, "--no-such-option");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"hurd fsysopts: {hi}: the translator refused the options (--no-such-option)", r.Err);
            Assert.Equal("Changed at run time", s.Cat(hi).Out);

            // Replacing the active translator: the old one goes away first.
            Ok(s.Hurd("settrans", "-a", hi, "hello", "--contents=second"));
            Assert.Equal("second", s.Cat(hi).Out);
            Assert.Single(s.Records());

            // -x: EBUSY while a translator sits there; passive-only without -g/-k: EBUSY too.
            r = s.Hurd("settrans", "-ax", hi, "hello");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("Device or resource busy", r.Err);
            r = s.Hurd("settrans", hi);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("Device or resource busy", r.Err);

            Ok(s.Hurd("settrans", "-g", hi));
            NothingLeft(s);
            Assert.True(File.Exists(hi));
            Assert.Equal("", File.ReadAllText(hi));
            r = s.Hurd("showtrans", hi);
            Assert.Equal(1, r.ExitCode);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Passive_record_on_a_Linux_node_is_kept_in_an_xattr_and_started_with_s()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string hi = s.PathOf("hi");
            var r = s.Hurd("settrans", "-apc", hi, "hello", "--contents=recorded");
            Ok(r);
            bool xattrs = !r.Err.Contains("cannot record");
            Assert.Equal("recorded", s.Cat(hi).Out);
            // -g -k style: make the active one go away but keep the record (-a with no TRANSLATOR stops it).
            Ok(s.Hurd("settrans", "-a", hi));
            NothingLeft(s);
            if (!xattrs) return; // the temporary filesystem has no xattrs here: said so, and carried on
            r = s.Hurd("showtrans", hi);
            Ok(r);
            Assert.Equal("hello --contents=recorded", r.Out.Trim());
            Ok(s.Hurd("settrans", "-s", hi));
            Assert.Equal("recorded", s.Cat(hi).Out);
            // -g alone clears the record as well (utils/settrans.c).
            Ok(s.Hurd("settrans", "-g", hi));
            NothingLeft(s);
            Assert.Equal(1, s.Hurd("showtrans", hi).ExitCode);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Hello_on_a_directory_is_refused_clearly()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string dir = s.PathOf("dir");
            Directory.CreateDirectory(dir);
            var r = s.Hurd("settrans", "-a", dir, "hello");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("hello serves a single file", r.Err);
            NothingLeft(s);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Kill_9_gives_users_an_error_and_settrans_g_frees_the_node()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string hi = s.PathOf("hi");
            Ok(s.Hurd("settrans", "-ac", hi, "hello"));
            Assert.Equal("Hello, world!\n", s.Cat(hi).Out);
            Sandbox.Signal(s.PidAt(hi), "KILL");
            Assert.True(s.Processes().Count == 0 || s.NothingLeftOf(s.Processes), "the daemon survived SIGKILL");

            var r = s.Cat(hi);
            Assert.NotEqual(0, r.ExitCode);
            Assert.True(r.Err.Contains("Transport endpoint is not connected") || r.Err.Contains("Input/output error") || r.Err.Contains("connection abort"), r.ToString());

            r = s.Hurd("showtrans", hi);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("died", r.Err);

            Ok(s.Hurd("settrans", "-g", hi));
            NothingLeft(s);
            Assert.Equal("", File.ReadAllText(hi));

            // The node is usable again.
            Ok(s.Hurd("settrans", "-a", hi, "hello", "--contents=again"));
            Assert.Equal("again", s.Cat(hi).Out);
            Sandbox.Signal(s.PidAt(hi), "KILL");
            // A plain umount frees it too.
            Assert.True(s.NothingLeftOf(s.Processes));
            Ok(s.Exec("umount", [hi], 60_000));
            Ok(s.Hurd("settrans", "-g", hi));
            NothingLeft(s);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task A_translator_that_stops_answering_is_detected_and_forced_away()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string hi = s.PathOf("hi");
            Ok(s.Hurd("settrans", "-ac", hi, "hello"));
            int pid = s.PidAt(hi);
            Sandbox.Signal(pid, "STOP");

            var r = s.Hurd("settrans", "-g", hi);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("does not answer", r.Err);
            Assert.Contains("-f", r.Err);

            Ok(s.Hurd("settrans", "-fg", hi));
            NothingLeft(s);
            Assert.Equal("", File.ReadAllText(hi));
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Tmpfs_with_a_passive_hello_inside_its_tree()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string root = s.PathOf("root");
            Ok(s.Hurd("settrans", "-ac", root, "tmpfs", "16M"));
            Assert.True(Directory.Exists(root));
            File.WriteAllText(Path.Combine(root, "plain"), "data");
            Assert.Equal("data", s.Cat(Path.Combine(root, "plain")).Out);

            string h = Path.Combine(root, "h");
            Ok(s.Hurd("settrans", "-pc", h, "hello", "--contents=inside"));
            var r = s.Hurd("showtrans", h);
            Ok(r);
            Assert.Equal("hello --contents=inside", r.Out.Trim());
            Assert.Equal("inside", s.Cat(h).Out);

            r = s.Hurd("fsysopts", h);
            Ok(r);
            Assert.Equal("hello --contents=inside", r.Out.Trim());
            Ok(s.Hurd("fsysopts", h, "--contents=changed"));
            Assert.Equal("changed", s.Cat(h).Out);
            r = s.Hurd("fsysopts", root);
            Ok(r);
            Assert.StartsWith("tmpfs ", r.Out);
            Assert.Contains("16M", r.Out);

            // Setting just the passive one while the active one runs: EBUSY, as on the Hurd.
            r = s.Hurd("settrans", h, "hello", "--contents=other");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("Device or resource busy", r.Err);

            // -g: the active one goes, the record is cleared; the node is a plain (empty) file again.
            Ok(s.Hurd("settrans", "-g", h));
            Assert.Equal(1, s.Hurd("showtrans", h).ExitCode);
            Assert.Equal("", s.Cat(h).Out);

            // -a inside the tree: the parent starts it now.
            Ok(s.Hurd("settrans", "-a", h, "hello", "--contents=active"));
            Assert.Equal("active", s.Cat(h).Out);

            Ok(s.Hurd("settrans", "-g", root));
            NothingLeft(s);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Boot_and_halt()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string mnt = s.PathOf("mnt");
            var r = s.Hurd("boot", mnt);
            Ok(r);
            Assert.Contains("NODE", r.Out);
            Assert.Contains("tmpfs 50%", r.Out);
            Assert.Contains(mnt + "/hello", r.Out);
            Assert.Equal("Hello, world!\n", s.Cat(mnt + "/hello").Out);
            Assert.Equal("hello", s.Hurd("showtrans", mnt + "/hello").Out.Trim());

            // auth runs first, published in the runtime directory, and its filesystem is /servers/auth.
            Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(mnt)}/servers/auth +auth +\d+ ", r.Out);
            Assert.True(File.Exists(Path.Combine(s.Runtime, "servers", "auth")));
            Assert.Matches(@"^euids: 0\nauids:( 0)+\negids: 0\nagids:( 0)+\n$", s.Cat(mnt + "/servers/auth/self").Out);
            var nobody = s.Exec("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", mnt + "/servers/auth/self"], 60_000);
            Assert.Matches(@"^euids: 65534\nauids:( 65534)+\negids: 65534\nagids:( 65534)+\n$", nobody.Out);
            Assert.Equal("euids: 0\nauids: 0 0\negids: 0\nagids: 0 0\n", s.Cat(mnt + "/servers/auth/handles/0").Out);

            r = s.Hurd("boot", mnt);
            Ok(r);
            Assert.Contains("already running", r.Out);
            Assert.Contains(mnt + "/servers/auth", r.Out);

            r = s.Hurd("halt", mnt);
            Ok(r);
            Assert.Contains("2 translators stopped", r.Out);
            NothingLeft(s);
            Assert.False(File.Exists(Path.Combine(s.Runtime, "servers", "auth")));
            r = s.Hurd("halt", mnt);
            Ok(r);
            Assert.Contains("nothing was running", r.Out);

            // A disk image left not clean (a daemon killed while writable): boot checks it with e2fsck -p, as a system's
            // boot does, and /disk is writable again.
            string image = Path.Combine(s.Runtime, "disk.img");
            Assert.DoesNotContain("disk", s.Hurd("boot", mnt).Err);
            Ok(s.Hurd("halt", mnt));
            void Unclean()
            {
                using var h = File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.Write(h, new byte[2], 1024 + 0x3A); // s_state: neither VALID nor ERROR
            }
            Unclean();
            r = s.Hurd("boot", mnt);
            Ok(r);
            // (exit 1: e2fsck wrote the superblock, the state flag at least)
            Assert.Matches($@"hurd boot: {System.Text.RegularExpressions.Regex.Escape(image)} was not cleanly unmounted: checked with e2fsck -p \(exit [01]\)", r.Out);
            Assert.DoesNotContain("read-only", r.Err);
            Ok(s.Exec("touch", [mnt + "/disk/x"]));
            Ok(s.Hurd("halt", mnt));
            // ... but not while a process has the image open (a translator using it elsewhere): then /disk is read-only,
            // and boot says so.
            Unclean();
            using (var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh")
                { ArgumentList = { "-c", $"exec sleep 120 < '{image}'" }, UseShellExecute = false })!)
            {
                try
                {
                    var fd0 = $"/proc/{holder.Id}/fd/0";
                    for (int i = 0; i < 100 && !(File.Exists(fd0) && new FileInfo(fd0).LinkTarget == image); i++) Thread.Sleep(50);
                    r = s.Hurd("boot", mnt);
                    Ok(r);
                    Assert.Contains($"hurd boot: {image} was not cleanly unmounted (or is in use elsewhere): /disk will be read-only", r.Err);
                    Assert.Contains($"(pid {holder.Id} has it open)", r.Err);
                    Assert.Contains("Read-only file system", s.Exec("touch", [mnt + "/disk/y"]).Err);
                }
                finally { holder.Kill(); holder.WaitForExit(10_000); }
            }
            Ok(s.Hurd("halt", mnt));
            NothingLeft(s);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task The_fstab_path_mount_fuse3_with_the_hurd_translator_helper()
    {
        await Task.Run(() =>
        {
            // mount(8) with a fuse source is root's (users go through fstab's "user" option instead).
            if (Hurd.Ipc.Interop.Self.Uid != 0) return;
            using var s = new Sandbox();
            string hi = s.PathOf("hi");
            File.WriteAllText(hi, "");
            string helper = Path.Combine(Sandbox.Repo, "mount", "Hurd.Cli", "fstab", "hurd-translator");
            // A bad value of a bridge option: the mount fails with the option named, and nothing is left mounted.
            var bad = s.Exec("mount", ["-t", "fuse", "-o", "allow_other,entry_timeout=soon", helper + "#hello", hi], 120_000);
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("entry_timeout=soon", bad.Err + bad.Out);
            // The fstab line: HELPER#hello  NODE  fuse  allow_other,contents=...  0 0 (with the bridge's caching options)
            var r = s.Exec("mount", ["-t", "fuse", "-o", "allow_other,contents=from fstab,entry_timeout=0,attr_timeout=0.5,noauto_cache", helper + "#hello", hi], 120_000);
            Ok(r);
            Assert.Equal("from fstab", s.Cat(hi).Out);
            Assert.Equal("hello", s.Hurd("showtrans", hi).Out.Split(' ')[0].Trim());
            Ok(s.Hurd("fsysopts", hi, "--contents=changed"));
            Assert.Equal("changed", s.Cat(hi).Out);
            // A plain umount takes it away: the daemon ends and removes its record.
            Ok(s.Exec("umount", [hi], 60_000));
            NothingLeft(s);
        });
    }
}
