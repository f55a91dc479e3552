using Hurd.Ipc.Abi;

namespace Hurd.Cli;

/// <summary>
/// A command that cannot do what it was asked: <see cref="Program"/> prints
/// <c>hurd COMMAND: MESSAGE</c> on stderr and exits with <see cref="ExitCode"/> (1, or 2 for usage errors).
/// The command line is not a hot path, so failures travel as this exception.
/// </summary>
public sealed class CommandFailed(string message, int exitCode = 1) : Exception(message)
{
    /// <summary>The process exit code: 1 failure, 2 usage.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>"NODE: strerror" for an errno from a call on NODE.</summary>
    public static CommandFailed On(string node, Errno e, string? hint = null) =>
        new($"{node}: {Describe(e)}{(hint is null ? "" : "; " + hint)}");

    /// <summary>The message of an errno, with the Hurd-only codes turned into words a shell user reads.</summary>
    public static string Describe(Errno e) => e switch
    {
        Errno.EDIED => "the translator died",
        Errno.MIG_BAD_ID or Errno.EOPNOTSUPP => "Operation not supported",
        _ => e.ToPosix().Message(),
    };
}
