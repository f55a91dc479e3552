using System.Diagnostics;

namespace Hurd.Fuse;

/// <summary>
/// The "go to the background once mounted" half of the FUSE daemon convention. <c>mount</c> (through
/// <c>mount.fuse3</c>, for an <c>/etc/fstab</c> line of type <c>fuse.NAME</c>) runs the daemon and waits for it
/// to exit, so a daemon started without <c>-f</c> must leave a child serving the mount and exit 0 once the mount
/// exists. .NET cannot fork, so the child is this program run again with <c>-f</c>, in a new session
/// (<c>setsid</c>), its standard input and output on /dev/null and its standard error in a log shown if it dies
/// before the mount appears. A zombie cannot stay behind: the child's parent is a shell that exits at once.
/// </summary>
public static class FuseDaemon
{
    /// <summary>
    /// If <paramref name="options"/> asks for the foreground (<c>-f</c> or <c>-d</c>), returns null: mount and serve
    /// in this process. Otherwise starts the background child and waits (up to <paramref name="timeout"/>, default
    /// 30 s) for the mount to appear, and returns the exit code this process should end with: 0 when mounted, 1 with
    /// a message on standard error if the child failed.
    /// </summary>
    /// <param name="options">The parsed command line.</param>
    /// <param name="args">This program's arguments as given (the child gets them again, plus <c>-f</c>).</param>
    /// <param name="timeout">How long to wait for the mount.</param>
    public static int? Background(FuseMountOptions options, IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        if (options.Foreground) return null;
        string mountPoint = Path.GetFullPath(options.MountPoint);
        string log = Path.Combine(Path.GetTempPath(), $"fuse-daemon-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        // mount(8) gives helpers a minimal PATH: name setsid by its path.
        string setsid = new[] { "/usr/bin/setsid", "/bin/setsid", "/usr/sbin/setsid" }.FirstOrDefault(File.Exists) ?? "setsid";
        var psi = new ProcessStartInfo(setsid) { UseShellExecute = false, RedirectStandardOutput = true };
        psi.ArgumentList.Add("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("log=\"$1\"; shift; \"$@\" </dev/null >/dev/null 2>\"$log\" & echo $!");
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add(log);
        foreach (string a in SelfCommand()) psi.ArgumentList.Add(a);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-f");
        try
        {
            int pid;
            using (var p = Process.Start(psi)!)
            {
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (!int.TryParse(output.Trim(), out pid)) throw new InvalidOperationException("no process id from the shell");
            }
            var deadline = Stopwatch.StartNew();
            TimeSpan limit = timeout ?? TimeSpan.FromSeconds(30);
            while (deadline.Elapsed < limit)
            {
                if (IsMounted(mountPoint)) return 0;
                if (!Directory.Exists("/proc/" + pid)) break; // the child died before mounting
                Thread.Sleep(20);
            }
            if (IsMounted(mountPoint)) return 0;
            string why = File.Exists(log) ? File.ReadAllText(log).Trim() : "";
            Console.Error.WriteLine(why.Length > 0 ? why : $"{mountPoint}: not mounted within {limit.TotalSeconds:F0} s");
            return 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("cannot start the daemon: " + ex.Message);
            return 1;
        }
        finally
        {
            // The child keeps its descriptor to the log; removing the name is enough.
            try { File.Delete(log); } catch (IOException) { }
        }
    }

    /// <summary>The command that runs this program again: the app host, or <c>dotnet</c> with the entry assembly.</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string host = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(host) != "dotnet") return [host];
        string entry = Environment.GetCommandLineArgs()[0];
        return [host, "exec", entry];
    }

    /// <summary>True if <paramref name="mountPoint"/> (absolute) is a mount point in /proc/self/mountinfo.</summary>
    public static bool IsMounted(string mountPoint)
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] f = line.Split(' ', 6);
            if (f.Length > 4 && f[4] == mountPoint) return true;
        }
        return false;
    }
}
