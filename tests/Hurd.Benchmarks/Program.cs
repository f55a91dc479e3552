namespace Hurd.Benchmarks;

/// <summary>
/// Benchmark modes. Each prints one `name value unit` line per figure; ours and the baseline
/// are measured in the same run, interleaved, at least 3 rounds, and medians are printed.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "";
        string[] rest = args.Length > 0 ? args[1..] : [];
        switch (mode)
        {
            case "ipc": return IpcBenchmark.Run(rest);
            case "fuse": return FuseBenchmark.Run(rest);
            case "fs": return FsBenchmark.Run(rest);
            case "bridge": return BridgeBenchmark.Run(rest);
            default:
                Console.Error.WriteLine("usage: Hurd.Benchmarks ipc [--quick] | fuse | fs --target tmpfs|ext2 | bridge [--files N]");
                return 2;
        }
    }
}
