using System.Reflection;

namespace Hurd.Cli;

/// <summary>
/// The `hurd` command: one entry point, one sub-command per Hurd utility
/// (settrans, showtrans, fsysopts, boot, halt, ...). Each command is a class in Commands/.
/// Exit codes follow the shell's conventions: 0 success, 1 failure, 2 usage error.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.Write(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "-V" or "--version" or "version")
        {
            Console.Out.WriteLine($"hurd {Version}");
            return 0;
        }
        if (Commands.TryGetValue(args[0], out var cmd))
        {
            try { return cmd(args[1..]); }
            catch (CommandFailed ex)
            {
                Console.Out.Flush();
                Console.Error.WriteLine($"hurd {args[0]}: {ex.Message}");
                return ex.ExitCode;
            }
        }
        Console.Error.WriteLine($"hurd: unknown command '{args[0]}'; see 'hurd --help'");
        return 2;
    }

    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0";

    /// <summary>Sub-commands by name; each takes its own arguments and returns an exit code.</summary>
    internal static readonly Dictionary<string, Func<string[], int>> Commands = new()
    {
        ["settrans"] = Cli.Commands.Settrans.Run,
        ["showtrans"] = Cli.Commands.Showtrans.Run,
        ["stat"] = Cli.Commands.StatCommand.Run,
        ["fsysopts"] = Cli.Commands.Fsysopts.Run,
        ["boot"] = Cli.Commands.Boot.RunBoot,
        ["halt"] = Cli.Commands.Boot.RunHalt,
        ["mkfs.ext2"] = Cli.Commands.MkfsExt2.Run,
        ["watch"] = Cli.Commands.Watch.Run,
    };

    internal const string Usage = """
        Usage: hurd COMMAND [ARGS...]

        A Hurd-style multi-server system on Linux.

        Commands:
          boot [MNT]      boot the system: root tmpfs on MNT (default /mnt/hurd), hello on MNT/hello
          halt [MNT]      take the system on MNT down (no mount, process or record left)
          settrans        set or remove a translator on a node (mount a translator on Linux)
          showtrans       show a node's translator
          stat            show a node's Hurd status (translated or not, the passive record)
          fsysopts        show or change a running translator's options
          watch           print a node's changes as its translator reports them
          mkfs.ext2       make an ext2 image (IMAGE SIZE)
          --help, -h      show this help
          --version, -V   show the version

        Run 'hurd COMMAND --help' for a command's own options.

        """;
}
