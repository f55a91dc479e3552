using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hurd.Ipc.Transport;

namespace Hurd.Translators.Hosting;

/// <summary>
/// What a running translator daemon tells the rest of the system about itself: where it is
/// mounted, its process, its command line, and the bootstrap name of its control port (the
/// fsys port `hurd fsysopts` and `hurd settrans -g` talk to). Written by
/// TranslatorHost once the daemon serves, as
/// <c>&lt;RuntimeDirectory&gt;/mounts/&lt;key&gt;.json</c>, and removed when it exits.
/// The same key names the control port: <c>translators/&lt;key&gt;</c> under
/// <see cref="Bootstrap.ServersDirectory"/>.
/// </summary>
public sealed record MountRecord
{
    /// <summary>The absolute path of the node the translator is attached to (the FUSE mount point).</summary>
    public required string MountPoint { get; init; }
    /// <summary>The daemon's process id.</summary>
    public required int Pid { get; init; }
    /// <summary>The translator's command line as it was set (program name first, e.g. "hello", "--contents=hi").</summary>
    public required string[] Argv { get; init; }
    /// <summary>The bootstrap name of the control port (for <see cref="Bootstrap.Lookup"/>).</summary>
    public required string Control { get; init; }
    /// <summary>The uid the daemon runs as.</summary>
    public uint Uid { get; init; }
    /// <summary>When it started serving (UTC, ISO 8601).</summary>
    public string Started { get; init; } = DateTime.UtcNow.ToString("O");

    /// <summary>The directory holding the records.</summary>
    public static string Directory => Path.Combine(Bootstrap.RuntimeDirectory, "mounts");

    /// <summary>The key for a mount point: 16 hex digits of the SHA-256 of its absolute path.</summary>
    public static string KeyOf(string mountPoint)
    {
        string full = Normalize(mountPoint);
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(full), h);
        return Convert.ToHexStringLower(h[..8]);
    }

    /// <summary>The bootstrap name of the control port of the translator at <paramref name="mountPoint"/>.</summary>
    public static string ControlNameOf(string mountPoint) => "translators/" + KeyOf(mountPoint);

    /// <summary>The file holding the record for <paramref name="mountPoint"/>.</summary>
    public static string PathOf(string mountPoint) => Path.Combine(Directory, KeyOf(mountPoint) + ".json");

    /// <summary>An absolute path without a trailing slash ("/" stays "/").</summary>
    public static string Normalize(string path)
    {
        string full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>Writes the record atomically (write to a temporary file, then rename).</summary>
    public void Save()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = PathOf(MountPoint), tmp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, MountRecordJson.Default.MountRecord));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Removes the record of <paramref name="mountPoint"/> if it is the one of process <paramref name="pid"/>.</summary>
    public static void Remove(string mountPoint, int pid)
    {
        var r = Load(mountPoint);
        if (r is not null && r.Pid == pid) File.Delete(PathOf(mountPoint));
    }

    /// <summary>The record for <paramref name="mountPoint"/>, or null if none (or unreadable).</summary>
    public static MountRecord? Load(string mountPoint) => LoadFile(PathOf(mountPoint));

    /// <summary>Every record (stale ones included: check <see cref="IsAlive"/>).</summary>
    public static List<MountRecord> All()
    {
        var list = new List<MountRecord>();
        if (!System.IO.Directory.Exists(Directory)) return list;
        foreach (var f in System.IO.Directory.EnumerateFiles(Directory, "*.json"))
            if (LoadFile(f) is { } r) list.Add(r);
        return list;
    }

    /// <summary>True if the daemon process still exists.</summary>
    public bool IsAlive => System.IO.Directory.Exists($"/proc/{Pid}");

    private static MountRecord? LoadFile(string path)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllText(path), MountRecordJson.Default.MountRecord); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        catch (JsonException) { return null; }
    }
}

[JsonSerializable(typeof(MountRecord))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class MountRecordJson : JsonSerializerContext;
