using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ShipBot.Deploy.HAProxy;

/// <summary>One server line of <c>show servers state</c>.</summary>
/// <param name="OperationalState">srv_op_state: 0 stopped (down), 1 starting, 2 running (up), 3 stopping.</param>
/// <param name="AdminState">srv_admin_state bit flags: 0x01/0x02/0x04/0x20/0x40 maintenance, 0x08/0x10 drain.</param>
/// <param name="Weight">srv_uweight: the weight in effect.</param>
public sealed record HAProxyServerState(string Backend, string Server, string Address, int OperationalState, int AdminState, int Weight, int InitialWeight, int CheckStatus)
{
    public bool IsUp => OperationalState == 2;

    public bool InMaintenance => (AdminState & 0x67) != 0;

    public bool Draining => (AdminState & 0x18) != 0;

    /// <summary>UP, DOWN, STARTING, STOPPING, MAINT or DRAIN, as HAProxy's stats page says it.</summary>
    public string Describe() => InMaintenance ? "MAINT" : Draining ? "DRAIN" : OperationalState switch
    {
        0 => "DOWN",
        1 => "STARTING",
        2 => "UP",
        3 => "STOPPING",
        _ => $"state {OperationalState}",
    };
}

/// <summary>
/// HAProxy's runtime API (the stats socket, <c>stats socket … level admin</c>) over a unix socket
/// (<c>/run/haproxy/admin.sock</c> or <c>unix:/path</c>) or TCP (<c>tcp:127.0.0.1:9999</c> or
/// <c>127.0.0.1:9999</c>). Each call is one connection in non-interactive mode: HAProxy runs the
/// line (commands separated by <c>;</c> run in order) and closes the connection after answering.
/// </summary>
public sealed class HAProxyRuntimeApi
{
    private readonly EndPoint _endpoint;

    public HAProxyRuntimeApi(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        Address = address;
        _endpoint = Parse(address) ?? throw new ArgumentException($"'{address}' is not a runtime API address: use a unix socket path (/run/haproxy/admin.sock) or tcp:host:port", nameof(address));
    }

    public string Address { get; }

    /// <summary>Whether <paramref name="address"/> names a unix socket or a TCP host:port.</summary>
    public static bool IsValidAddress(string? address) => !string.IsNullOrWhiteSpace(address) && Parse(address) is not null;

    /// <summary>Sends one command line and returns HAProxy's whole answer.</summary>
    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        if (command.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("one command line at a time", nameof(command));
        }

        using var socket = _endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endpoint, cancellationToken).ConfigureAwait(false);
            await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var answer = new StringBuilder();
            var buffer = new byte[8192];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)) > 0)
            {
                answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            return answer.ToString();
        }
        catch (SocketException ex)
        {
            throw new IOException($"HAProxy runtime API {Address}: {ex.Message}", ex);
        }
    }

    /// <summary><c>show servers state &lt;backend&gt;</c>, parsed by its header line.</summary>
    public async Task<IReadOnlyList<HAProxyServerState>> ShowServersStateAsync(string backend, CancellationToken cancellationToken = default)
    {
        var answer = await ExecuteAsync($"show servers state {backend}", cancellationToken).ConfigureAwait(false);
        return ParseServersState(answer);
    }

    /// <summary>Parses the answer of <c>show servers state</c> (format version 1): a version line, a <c># be_id be_name …</c> header, one line per server.</summary>
    public static IReadOnlyList<HAProxyServerState> ParseServersState(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var lines = answer.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines.FirstOrDefault(l => l.StartsWith("# be_id", StringComparison.Ordinal))
            ?? throw new FormatException($"not a 'show servers state' answer: {Shorten(answer)}");
        var columns = header[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int Column(string name) => Array.IndexOf(columns, name) is >= 0 and var i ? i : throw new FormatException($"'show servers state' has no {name} column");
        var (beName, srvName, addr, op, admin, uweight, iweight, check) =
            (Column("be_name"), Column("srv_name"), Column("srv_addr"), Column("srv_op_state"), Column("srv_admin_state"), Column("srv_uweight"), Column("srv_iweight"), Column("srv_check_status"));
        var servers = new List<HAProxyServerState>();
        foreach (var line in lines.Where(l => !l.StartsWith('#') && l.Contains(' ', StringComparison.Ordinal)))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < columns.Length - 4)
            {
                continue;
            }

            servers.Add(new HAProxyServerState(f[beName], f[srvName], f[addr], Int(f[op]), Int(f[admin]), Int(f[uweight]), Int(f[iweight]), Int(f[check])));
        }

        return servers;
    }

    private static int Int(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static EndPoint? Parse(string address)
    {
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            return address.Length > 5 ? new UnixDomainSocketEndPoint(address[5..]) : null;
        }

        if (address.StartsWith('/'))
        {
            return new UnixDomainSocketEndPoint(address);
        }

        var hostPort = address.StartsWith("tcp:", StringComparison.Ordinal) ? address[4..] : address;
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return null;
        }

        var host = hostPort[..colon].Trim('[', ']');
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text.Trim();
}
