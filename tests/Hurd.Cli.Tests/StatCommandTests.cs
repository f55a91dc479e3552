namespace Hurd.Cli.Tests;

/// <summary><c>hurd stat</c>: the Hurd's stat of a node itself, showing whether (and by what) it is translated, which
/// Linux's stat cannot show.</summary>
public class StatCommandTests
{
    private static void Ok(Run r) => Assert.True(r.ExitCode == 0, r.ToString());

    [Fact(Timeout = 300_000)]
    public async Task Stat_shows_which_nodes_are_translated()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string root = s.PathOf("root");
            Ok(s.Hurd("settrans", "-ac", root, "tmpfs", "16M"));
            File.WriteAllText(Path.Combine(root, "plain"), "data");
            string h = Path.Combine(root, "h");
            Ok(s.Hurd("settrans", "-pc", h, "hello", "--contents=inside"));

            var r = s.Hurd("stat", h);
            Ok(r);
            Assert.Contains("translated: passive hello --contents=inside\n", r.Out);
            Assert.Contains("Type: regular file", r.Out);
            Assert.Equal("inside", s.Cat(h).Out);
            // Now it runs; stat still shows the node itself (empty, its own inode), not hello's root.
            r = s.Hurd("stat", h);
            Ok(r);
            Assert.Contains("translated: passive hello --contents=inside, active\n", r.Out);
            Assert.Contains("Size: 0 ", r.Out);
            Assert.Equal("translated: no\n", s.Hurd("stat", "-t", Path.Combine(root, "plain")).Out);
            if (File.Exists("/usr/bin/setfacl"))
            {
                Ok(s.Exec("setfacl", ["-m", "u:1000:r--", Path.Combine(root, "plain")]));
                Assert.Contains("   ACL: u::rw-,u:1000:r--,g::r--,m::r--,o::r--\n", s.Hurd("stat", Path.Combine(root, "plain")).Out);
            }
            r = s.Hurd("stat", "-t", root);
            Ok(r);
            Assert.StartsWith("translated: active tmpfs 16M", r.Out);
            Assert.Equal("translated: no\n", s.Hurd("stat", "-t", s.Dir).Out);
            Assert.Equal(1, s.Hurd("stat", Path.Combine(root, "missing"), h).ExitCode);
            Assert.Equal(2, s.Hurd("stat").ExitCode);

            Ok(s.Hurd("settrans", "-g", root));
            Assert.True(s.NothingLeft(out var what), "left behind: " + what);
        });
    }
}
