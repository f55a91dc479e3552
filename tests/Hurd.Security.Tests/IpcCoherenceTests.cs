using Microsoft.Win32.SafeHandles;

namespace Hurd.Security.Tests;

/// <summary>
/// What another client changes over IPC (not through the mount) is seen through the mount at once, not when the
/// kernel's caches expire: the serving layer tells the FUSE bridge of the same daemon (ServedFilesystem.Observer),
/// which drops the attributes, names (a miss too) and pages the kernel holds. Mounted with a minute of entry, negative
/// entry and attribute timeout, so that each check fails without it.
/// </summary>
public sealed class IpcCoherenceTests
{
    const int T = 180_000;

    [Fact(Timeout = T)]
    public async Task ChangesMadeOverIpc_AreSeenThroughTheMountAtOnce()
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        using var w = new World("coherence");
        string ours = w.PathOf("ours");
        // Caches that would outlive the test (a minute) unless the bridge drops them.
        w.MountOurTmpfs(ours, "-o", "entry_timeout=60,attr_timeout=60,negative_timeout=60");
        string d = Path.Combine(ours, "d");
        var setup = w.Exec(User.Root, "sh", ["-c", $"mkdir '{d}' && cd '{d}' && echo one > f && echo two > g && echo three > h && echo own > w && chmod 644 f"]);
        Assert.True(setup.ExitCode == 0, "setup: " + setup);
        // Through the mount: attributes, names and w's first page are now in the kernel's caches; w stays open.
        Assert.Equal("644", w.Exec(User.Root, "stat", ["-c", "%a", Path.Combine(d, "f")]).Out.Trim());
        Assert.Equal(0, w.Exec(User.Root, "cat", [Path.Combine(d, "g"), Path.Combine(d, "h")]).ExitCode);
        // A name looked up and missing: the kernel may keep the miss (a negative entry) for the entry timeout.
        Assert.NotEqual(0, w.Exec(User.Root, "stat", [Path.Combine(d, "new")]).ExitCode);
        using var open = File.OpenHandle(Path.Combine(d, "w"));
        var first = new byte[1];
        Assert.Equal(1, RandomAccess.Read(open, first, 0));
        Assert.Equal((byte)'o', first[0]);

        w.RootOverIpc(ours, "chmod d/f 0600\nunlink d/g\nrename d/h d/h2\nwrite d/w\nopen d/new WRONLY|CREAT 0644\n");

        Assert.Equal("600", w.Exec(User.Root, "stat", ["-c", "%a", Path.Combine(d, "f")]).Out.Trim());
        Assert.NotEqual(0, w.Exec(User.Root, "stat", [Path.Combine(d, "g")]).ExitCode);
        Assert.NotEqual(0, w.Exec(User.Root, "stat", [Path.Combine(d, "h")]).ExitCode);
        Assert.Equal("three", w.Exec(User.Root, "cat", [Path.Combine(d, "h2")]).Out.Trim());
        Assert.Equal(0, w.Exec(User.Root, "stat", [Path.Combine(d, "new")]).ExitCode);
        Assert.Equal(1, RandomAccess.Read(open, first, 0));
        Assert.Equal((byte)'w', first[0]);
    }
}
