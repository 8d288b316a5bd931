# ShipBot: multi-stage build, SDK → ASP.NET Core runtime.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig appsettings.json ./
COPY src/ src/
RUN dotnet publish src/ShipBot.Host/ShipBot.Host.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Listen on all interfaces inside the container; appsettings.json binds 127.0.0.1 for local runs.
# 8080: chat platforms, console, API, probes. 9464: the management port (GET /metrics only).
ENV Urls=http://0.0.0.0:8080 \
    Management__Urls=http://0.0.0.0:9464 \
    DOTNET_gcServer=0
EXPOSE 8080 9464
USER app
# Liveness without curl in the image: bash's /dev/tcp asks /healthz and expects a 200.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "ShipBot.Host.dll"]
