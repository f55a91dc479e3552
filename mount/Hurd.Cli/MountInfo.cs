namespace Hurd.Cli;

/// <summary>One line of /proc/self/mountinfo: where a filesystem is mounted and of what type.</summary>
public sealed record MountEntry(string MountPoint, string FsType, string Source, string Options);

/// <summary>Reads the kernel's mount table (/proc/self/mountinfo).</summary>
public static class MountInfo
{
    public static List<MountEntry> Read()
    {
        var list = new List<MountEntry>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            var f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (dash < 0 || f.Length < dash + 3 || f.Length < 6) continue;
            list.Add(new MountEntry(Unescape(f[4]), f[dash + 1], Unescape(f[dash + 2]), f[5]));
        }
        return list;
    }

    /// <summary>The mount whose mount point is exactly <paramref name="path"/> (the last one if stacked), or null.</summary>
    public static MountEntry? At(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        if (full.Length == 0) full = "/";
        return Read().LastOrDefault(m => m.MountPoint == full);
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo.</summary>
    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOct(s, i + 1))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool IsOct(string s, int at) =>
        at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
