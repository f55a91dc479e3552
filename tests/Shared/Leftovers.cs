namespace Hurd.Tests.Shared;

/// <summary>What a test may have left behind: mounts under a directory and live daemons of a runtime directory,
/// read from /proc (so a test can assert that nothing is left, or clean it up).</summary>
internal static class Leftovers
{
    /// <summary>Mount points at or under <paramref name="dir"/>, from /proc/self/mountinfo.</summary>
    public static List<string> MountsUnder(string dir)
    {
        var list = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var f = line.Split(' ');
            if (f.Length > 4 && (f[4] == dir || f[4].StartsWith(dir + "/", StringComparison.Ordinal))) list.Add(f[4]);
        }
        return list;
    }

    /// <summary>Live (not zombie) processes other than this one whose environment carries
    /// HURD_RUNTIME_DIR=<paramref name="runtime"/>: the daemons started for that runtime directory.</summary>
    public static List<int> ProcessesOfRuntime(string runtime)
    {
        var list = new List<int>();
        string marker = "HURD_RUNTIME_DIR=" + runtime + "\0";
        foreach (var d in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(d, "environ")).Contains(marker, StringComparison.Ordinal)) continue;
                string stat = File.ReadAllText(Path.Combine(d, "stat"));
                int close = stat.LastIndexOf(')');
                if (close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X') continue;
                list.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        return list;
    }
}
