package jiedui.neo4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs an embedded Neo4j (community) instance reachable over Bolt, for tests.
 *
 * <p>Usage: {@code java -jar jiedui-neo4j-server.jar DATA_DIR PORT}, or the
 * system properties {@code jiedui.neo4j.dir} / {@code jiedui.neo4j.port}
 * (arguments win). Prints {@code bolt://127.0.0.1:PORT} on stdout once the
 * default database accepts work; exits non-zero if startup fails. SIGTERM
 * (or Ctrl-C) shuts the database down cleanly through a shutdown hook.
 */
public final class Launcher {

    private static final String HOST = "127.0.0.1";

    private Launcher() {
    }

    public static void main(String[] args) {
        String dirArg = args.length > 0 ? args[0] : System.getProperty("jiedui.neo4j.dir");
        String portArg = args.length > 1 ? args[1] : System.getProperty("jiedui.neo4j.port", "7688");
        if (dirArg == null || dirArg.isBlank()) {
            System.err.println("usage: Launcher DATA_DIR [PORT]  (or -Djiedui.neo4j.dir=... -Djiedui.neo4j.port=...)");
            System.exit(2);
        }
        int port;
        try {
            port = Integer.parseInt(portArg.trim());
        } catch (NumberFormatException e) {
            System.err.println("invalid port: " + portArg);
            System.exit(2);
            return;
        }

        Path home = Path.of(dirArg).toAbsolutePath();
        DatabaseManagementService dbms = null;
        try {
            Files.createDirectories(home);
            dbms = new DatabaseManagementServiceBuilder(home)
                    // Bolt on loopback only: the test server must never be reachable from outside.
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                    .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                    // The embedded builder starts no HTTP server; say so explicitly anyway.
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    // Throwaway local data: no credentials needed.
                    .setConfig(GraphDatabaseSettings.auth_enabled, false)
                    // Keep the footprint small and predictable on a shared 2-core box; a benchmark
                    // of a province store sizes the page cache to the store instead
                    // (-Djiedui.neo4j.pagecache.mb=N), as a deployment would.
                    .setConfig(GraphDatabaseSettings.pagecache_memory,
                            ByteUnit.mebiBytes(Long.getLong("jiedui.neo4j.pagecache.mb", 256L)))
                    .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, ByteUnit.mebiBytes(512))
                    .setConfig(GraphDatabaseSettings.memory_transaction_max_size, ByteUnit.mebiBytes(256))
                    // Don't reserve 256 MiB transaction log files up front for a tiny test store.
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
                    .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                    // Netty's default graceful-shutdown quiet periods add ~10 s to every
                    // stop; a test server has nothing worth lingering for. These are
                    // internal settings, valid for the pinned 5.26 release.
                    .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                    .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                    .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                    .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2))
                    .build();

            final DatabaseManagementService running = dbms;
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    running.shutdown();
                } catch (Throwable t) {
                    System.err.println("error during shutdown: " + t);
                } finally {
                    stopped.countDown();
                }
            }, "jiedui-neo4j-shutdown"));

            // build() returns once Bolt is bound; also wait until the default
            // database can take queries so "ready" really means ready.
            String dbName = GraphDatabaseSettings.DEFAULT_DATABASE_NAME;
            if (!dbms.database(dbName).isAvailable(Duration.ofSeconds(120).toMillis())) {
                throw new IllegalStateException("database '" + dbName + "' did not become available");
            }

            System.out.println("bolt://" + HOST + ":" + port);
            System.out.flush();

            // Park the main thread; the shutdown hook ends the process.
            stopped.await();
        } catch (Throwable t) {
            System.err.println("neo4j failed to start: " + t);
            t.printStackTrace(System.err);
            if (dbms != null) {
                try {
                    dbms.shutdown();
                } catch (Throwable ignored) {
                    // Already failing; the original error is what matters.
                }
            }
            // halt() rather than exit(): skip the shutdown hook, which would
            // try to shut the service down a second time.
            System.err.flush();
            Runtime.getRuntime().halt(1);
        }
    }
}
