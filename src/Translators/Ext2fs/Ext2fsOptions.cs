using System.Globalization;
using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2fs;

/// <summary>
/// ext2fs options, as the Hurd's <c>/hurd/ext2fs [--readonly|--writable] [--sync[=N]|--no-sync] DEVICE</c> (the
/// libdiskfs set): parsed at startup and by <c>fsys_set_options</c> (fsysopts), where only the options given change
/// and the image cannot change. Other libdiskfs switches (--no-suid, --no-exec, --no-atime, --relatime, ...) are
/// accepted and have no effect; <c>--force</c> (ours) mounts an unclean image read-write.
/// </summary>
public sealed record Ext2fsOptions
{
    /// <summary>The default sync interval in seconds (libdiskfs's DEFAULT_SYNC_INTERVAL).</summary>
    public const int DefaultSyncInterval = 30;

    /// <summary>The image file (the Hurd's device).</summary>
    public string Image { get; init; } = "";
    /// <summary>--readonly: every change fails with EROFS.</summary>
    public bool ReadOnly { get; init; }
    /// <summary>--sync (no value): every change is written and fsynced before it returns.</summary>
    public bool Synchronous { get; init; }
    /// <summary>--sync=N: write everything back every N seconds; 0 (--no-sync) never on its own.</summary>
    public int SyncInterval { get; init; } = DefaultSyncInterval;
    /// <summary>--force: mount an image that was not cleanly unmounted read-write anyway.</summary>
    public bool Force { get; init; }

    /// <summary>Parses an argz (NUL-separated) on top of <paramref name="current"/>.</summary>
    public static Errno Parse(ReadOnlySpan<byte> argz, Ext2fsOptions? current, out Ext2fsOptions result, bool runtime)
    {
        var args = new List<string>();
        while (!argz.IsEmpty)
        {
            int z = argz.IndexOf((byte)0);
            var a = z < 0 ? argz : argz[..z];
            if (!a.IsEmpty) args.Add(Encoding.UTF8.GetString(a));
            argz = z < 0 ? default : argz[(z + 1)..];
        }
        return Parse(args, current, out result, runtime);
    }

    /// <summary>Parses command-line arguments on top of <paramref name="current"/> (or the defaults). With
    /// <paramref name="runtime"/> (fsysopts) a positional argument must name the current image. EINVAL for an unknown
    /// option, a bad value, or no image at startup.</summary>
    public static Errno Parse(IEnumerable<string> args, Ext2fsOptions? current, out Ext2fsOptions result, bool runtime)
    {
        var o = current ?? new Ext2fsOptions();
        result = o;
        foreach (string a in args)
        {
            if (a is "-r" or "--readonly" or "--rdonly") o = o with { ReadOnly = true };
            else if (a is "-w" or "--writable" or "--rdwr") o = o with { ReadOnly = false };
            else if (a is "-s" or "--sync") o = o with { Synchronous = true };
            else if (a.StartsWith("--sync=", StringComparison.Ordinal) || (a.StartsWith("-s", StringComparison.Ordinal) && a.Length > 2))
            {
                string v = a.StartsWith("--", StringComparison.Ordinal) ? a["--sync=".Length..] : a[2..];
                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return Errno.EINVAL;
                o = n == 0 ? o with { Synchronous = true } : o with { Synchronous = false, SyncInterval = n };
            }
            else if (a is "-n" or "--no-sync") o = o with { Synchronous = false, SyncInterval = 0 };
            else if (a is "--force" or "-f") o = o with { Force = true };
            else if (a is "--update" or "-u" or "-S" or "--no-suid" or "-E" or "--no-exec" or "-A" or "--no-atime" or "-R"
                     or "--relatime" or "--atime" or "--inherit-dir-group" or "--no-inherit-dir-group"
                     or "--xattr-translator-records") { /* accepted, no effect */ }
            else if (!a.StartsWith('-'))
            {
                if (runtime) { if (a != o.Image) return Errno.EINVAL; }
                else o = o with { Image = a };
            }
            else return Errno.EINVAL;
        }
        if (!runtime && o.Image.Length == 0) return Errno.EINVAL;
        result = o;
        return Errno.OK;
    }

    /// <summary>The options as fsys_get_options prints them: <c>--writable|--readonly --sync|--sync=N|--no-sync IMAGE</c>.</summary>
    public string[] ToArgs()
    {
        var l = new List<string> { ReadOnly ? "--readonly" : "--writable" };
        l.Add(Synchronous ? "--sync" : SyncInterval == 0 ? "--no-sync" : "--sync=" + SyncInterval.ToString(CultureInfo.InvariantCulture));
        if (Image.Length > 0) l.Add(Image);
        return l.ToArray();
    }

    /// <summary><see cref="ToArgs"/> as an argz.</summary>
    public byte[] ToArgz()
    {
        var sb = new StringBuilder();
        foreach (var a in ToArgs()) sb.Append(a).Append('\0');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
