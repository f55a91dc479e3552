namespace Hurd.Security.Tests;

/// <summary>
/// Names the kernel caches in a directory while everyone may search it (with the entry timeout) must not outlive that
/// permission: once root's chmod 0700, chown or setfacl of the directory returns, a user who walked through it a
/// moment before is refused, as on a local filesystem, not only after the entry timeout. Without default_permissions the kernel walks
/// a cached name without asking the translator, so the bridge drops the directory's names from the kernel's cache when
/// it answers the change (FuseBridge.NoteMode).
/// </summary>
public sealed class CachedNameTests
{
    const int T = 180_000;

    [Theory(Timeout = T)]
    [InlineData("tmpfs")]
    [InlineData("ext2fs")]
    public async Task NamesNobodyWalked_AreRefusedRightAfterRootTakesSearchAway(string fs)
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        using var w = new World("names");
        string ours = w.PathOf("ours");
        if (fs == "tmpfs") w.MountOurTmpfs(ours);
        else if (!w.MountOurExt2fs(ours)) { Console.WriteLine("skipped ext2fs: no mkfs.ext2"); return; }
        string d = Path.Combine(ours, "d"), file = Path.Combine(d, "sub", "f");
        var setup = w.Exec(User.Root, "sh", ["-c", $"mkdir -p '{d}/sub' && echo secret > '{file}' && chmod 755 '{d}' '{d}/sub' && chmod 644 '{file}'"]);
        Assert.True(setup.ExitCode == 0, "setup: " + setup);

        // Each round: nobody reads the file (its path is now in the kernel's cache), root takes search permission away
        // from d, and nobody, at once, is refused (well inside the one-second entry timeout); then root gives it back.
        // The last takes nobody alone out with an ACL entry, the mode bits still allowing everyone (the bridge keeps no
        // names cached in a directory with an access ACL beyond its mode).
        bool acl = File.Exists("/usr/bin/setfacl");
        foreach (var take in new[] { "chmod 700", "chmod 754", "chown 0:0 '{0}' && chmod 750", acl ? "setfacl -m u:nobody:---" : "chmod 700" })
        {
            var before = w.Exec(User.Nobody, "cat", [file]);
            Assert.True(before.ExitCode == 0 && before.Out.Trim() == "secret", "nobody before: " + before);
            var t = w.Exec(User.Root, "sh", ["-c", string.Format(take, d) + $" '{d}'"]);
            Assert.True(t.ExitCode == 0, take + ": " + t);
            var after = w.Exec(User.Nobody, "cat", [file]);
            Assert.True(after.ExitCode != 0 && after.Err.Contains("Permission denied"), $"nobody right after {take}: " + after);
            var stat = w.Exec(User.Nobody, "stat", ["-c", "%a", Path.Combine(d, "sub")]);
            Assert.True(stat.ExitCode != 0 && stat.Err.Contains("Permission denied"), $"nobody's stat of d/sub after {take}: " + stat);
            var back = w.Exec(User.Root, "sh", ["-c", $"{(acl ? "setfacl -b '" + d + "' && " : "")}chmod 755 '{d}'"]);
            Assert.True(back.ExitCode == 0, "chmod 755: " + back);
        }
        var again = w.Exec(User.Nobody, "cat", [file]);
        Assert.True(again.ExitCode == 0 && again.Out.Trim() == "secret", "nobody after chmod 755: " + again);
    }

    /// <summary>The same when root takes search permission away over IPC (file_chmod on the translator's port, not
    /// through the mount): the serving layer tells the bridge of the same daemon (ServedFilesystem.Observer).</summary>
    [Fact(Timeout = T)]
    public async Task NamesNobodyWalked_AreRefusedRightAfterRootTakesSearchAwayOverIpc()
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        using var w = new World("names-ipc");
        string ours = w.PathOf("ours");
        w.MountOurTmpfs(ours);
        string d = Path.Combine(ours, "d"), file = Path.Combine(d, "sub", "f");
        var setup = w.Exec(User.Root, "sh", ["-c", $"mkdir -p '{d}/sub' && echo secret > '{file}' && chmod 755 '{d}' '{d}/sub' && chmod 644 '{file}'"]);
        Assert.True(setup.ExitCode == 0, "setup: " + setup);

        var before = w.Exec(User.Nobody, "cat", [file]);
        Assert.True(before.ExitCode == 0 && before.Out.Trim() == "secret", "nobody before: " + before);
        w.RootOverIpc(ours, "chmod d 0700\n");
        var after = w.Exec(User.Nobody, "cat", [file]);
        Assert.True(after.ExitCode != 0 && after.Err.Contains("Permission denied"), "nobody right after root's chmod over IPC: " + after);
    }
}
