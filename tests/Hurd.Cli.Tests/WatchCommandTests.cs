using System.Diagnostics;

namespace Hurd.Cli.Tests;

/// <summary><c>hurd watch</c>: a node's changes as its translator reports them (dir_notice_changes,
/// file_notice_changes), for changes made through the Linux mount.</summary>
public class WatchCommandTests
{
    private static void Ok(Run r) => Assert.True(r.ExitCode == 0, r.ToString());

    /// <summary>Starts `hurd watch ARGS` and returns once it printed its "watching" line (it is registered).</summary>
    private static Process StartWatch(Sandbox s, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Sandbox.HurdDll);
        psi.ArgumentList.Add("watch");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HURD_RUNTIME_DIR"] = s.Runtime;
        var p = Process.Start(psi)!;
        var first = p.StandardOutput.ReadLineAsync();
        if (!first.Wait(60_000) || first.Result is not { } line || !line.StartsWith("watching "))
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            throw new Xunit.Sdk.XunitException("hurd watch did not start: " + (first.IsCompleted ? first.Result : "(nothing)") + p.StandardError.ReadToEnd());
        }
        return p;
    }

    /// <summary>The rest of the watcher's output once it exited by itself (killed after 60 s).</summary>
    private static (int Exit, string Out, string Err) Finish(Process p)
    {
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(); p.WaitForExit(10_000); return (-1, o.Result, "TIMED OUT " + e.Result); }
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }

    [Fact(Timeout = 300_000)]
    public async Task Watch_prints_the_changes_made_through_the_mount()
    {
        await Task.Run(() =>
        {
            using var s = new Sandbox();
            string root = s.PathOf("root");
            Ok(s.Hurd("settrans", "-ac", root, "tmpfs", "16M"));

            using (var w = StartWatch(s, "-c", "5", root))
            {
                File.WriteAllText(Path.Combine(root, "a"), "hi");
                Directory.CreateDirectory(Path.Combine(root, "d"));
                File.Move(Path.Combine(root, "a"), Path.Combine(root, "b"));
                File.Delete(Path.Combine(root, "b"));
                var r = Finish(w);
                Assert.True(r.Exit == 0, r.ToString());
                Assert.Equal("1 new a\n2 new d\n3 unlink a\n4 new b\n5 unlink b\n", r.Out);
            }

            string f = Path.Combine(root, "d", "f");
            File.WriteAllText(f, "");
            using (var w = StartWatch(s, "--count", "3", f))
            {
                File.AppendAllText(f, "12345");
                s.Exec("chmod", ["600", f]);
                s.Exec("truncate", ["-s", "2", f]);
                var r = Finish(w);
                Assert.True(r.Exit == 0, r.ToString());
                Assert.Equal("1 write 0 5\n2 meta\n3 truncate 0 2\n", r.Out);
            }

            // The translator going away ends the watch with a message.
            using (var w = StartWatch(s, root))
            {
                Ok(s.Hurd("settrans", "-g", root));
                var r = Finish(w);
                Assert.True(r.Exit == 1, r.ToString());
                Assert.Contains("the translator went away", r.Err);
            }

            Assert.Equal(1, s.Hurd("watch", s.Dir).ExitCode); // no translator of ours there
            Assert.Equal(2, s.Hurd("watch").ExitCode);
            Assert.True(s.NothingLeft(out var what), "left behind: " + what);
        });
    }
}
