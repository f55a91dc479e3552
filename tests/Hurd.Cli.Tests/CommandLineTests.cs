namespace Hurd.Cli.Tests;

/// <summary>The `hurd` command as a shell user meets it: help texts, usage errors, messages and exit codes.</summary>
public class CommandLineTests
{
    [Theory(Timeout = 120_000)]
    [InlineData("settrans", "Usage: hurd settrans")]
    [InlineData("showtrans", "Usage: hurd showtrans")]
    [InlineData("fsysopts", "Usage: hurd fsysopts")]
    [InlineData("boot", "Usage: hurd boot")]
    [InlineData("halt", "Usage: hurd halt")]
    public async Task Every_command_has_help(string command, string usage)
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            var r = s.Hurd(command, "--help");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.StartsWith(usage, r.Out);
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task Usage_errors_exit_2_and_failures_exit_1_with_the_node_named()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            var r = s.Hurd();
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("settrans", r.Out);

            r = s.Hurd("frobnicate");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("unknown command 'frobnicate'", r.Err);

            r = s.Hurd("settrans");
            Assert.Equal(2, r.ExitCode);
            Assert.StartsWith("hurd settrans: missing NODE", r.Err);

            r = s.Hurd("settrans", "-q", "x");
            Assert.Equal(2, r.ExitCode);

            string missing = s.PathOf("missing");
            r = s.Hurd("settrans", "-a", missing, "hello");
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"hurd settrans: {missing}: No such file or directory", r.Err);

            r = s.Hurd("settrans", "-ac", s.PathOf("x"), "no-such-translator");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("no-such-translator: no such translator", r.Err);

            r = s.Hurd("showtrans", s.Dir);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"hurd showtrans: {s.Dir}: no translator", r.Err.Trim());

            r = s.Hurd("fsysopts", s.Dir);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"hurd fsysopts: {s.Dir}: not served by a translator", r.Err);

            // Nothing was ever running: halt succeeds.
            r = s.Hurd("halt", s.Dir);
            Assert.True(r.ExitCode == 0, r.ToString());
        });
    }
}
