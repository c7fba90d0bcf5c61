#pragma once
// A real SMTP server for tests: Debian's python3-aiosmtpd with its Mailbox
// handler, started on a free loopback port with a Maildir in a temporary
// directory, and stopped (SIGTERM, then SIGKILL) when the sink goes away.
// Each accepted message is one file in <dir>/maildir/new, with the envelope
// added by aiosmtpd as X-MailFrom, X-RcptTo and X-Peer headers.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace esimguard::test {

class smtp_sink {
public:
    /// Starts the sink; reports a test failure (and running() is false) when
    /// it cannot.
    smtp_sink() {
        namespace fs = std::filesystem;
        std::string tmpl = (fs::temp_directory_path() / "esimguard-smtp-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
            return;
        }
        dir_ = tmpl;
        // A free port can be taken by someone else between our probe and
        // the sink's bind: try a few.
        for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
            start_on(free_port());
        }
        if (pid_ <= 0) {
            ADD_FAILURE() << "the SMTP sink (python3 -m aiosmtpd, Debian package python3-aiosmtpd, "
                             "installed by scripts/install-deps) did not start; its log:\n"
                          << log();
        }
    }

    ~smtp_sink() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    smtp_sink(const smtp_sink&) = delete;
    smtp_sink& operator=(const smtp_sink&) = delete;

    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] std::uint16_t port() const { return port_; }

    /// Every message received so far, as stored (the sink's line ends).
    [[nodiscard]] std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const char* sub : {"new", "cur"}) {
            std::error_code ec;
            const auto d = dir_ / "maildir" / sub;
            for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
                std::ifstream in(e.path(), std::ios::binary);
                std::ostringstream s;
                s << in.rdbuf();
                out.push_back(s.str());
            }
        }
        return out;
    }

    /// Polls until at least `n` messages arrived or `timeout` passes.
    [[nodiscard]] std::vector<std::string>
    wait_for_messages(std::size_t n,
                      std::chrono::milliseconds timeout = std::chrono::seconds{10}) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto m = messages();
        while (m.size() < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
            m = messages();
        }
        return m;
    }

    [[nodiscard]] std::string log() const {
        std::ifstream in(dir_ / "sink.log");
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }

    void stop() {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        pid_ = -1;
    }

private:
    static std::uint16_t free_port() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        ::close(fd);
        return ntohs(a.sin_port);
    }

    void start_on(std::uint16_t port) {
        // Debian's interpreter, which has the package, whatever python3 PATH finds first.
        const std::string python =
            std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        const std::string listen = "127.0.0.1:" + std::to_string(port);
        const std::string maildir = (dir_ / "maildir").string();
        const std::string logfile = (dir_ / "sink.log").string();
        std::vector<std::string> args = {python, "-m",   "aiosmtpd", "-n",
                                         "-l",   listen, "-c",       "aiosmtpd.handlers.Mailbox",
                                         maildir};
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        pid_t pid = -1;
        const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            return;
        }
        pid_ = pid;
        port_ = port;
        if (!wait_ready()) {
            stop();
        }
    }

    /// Polls until the sink greets (220) or exits, with a deadline.
    bool wait_ready() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            if (greets()) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{20});
        }
        return false;
    }

    bool greets() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port_);
        bool ok = false;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            pollfd p{fd, POLLIN, 0};
            char buf[4] = {};
            if (::poll(&p, 1, 2000) == 1 && ::recv(fd, buf, 3, 0) == 3) {
                ok = std::string(buf, 3) == "220";
            }
            const char quit[] = "QUIT\r\n";
            (void)!::send(fd, quit, sizeof quit - 1, MSG_NOSIGNAL);
        }
        ::close(fd);
        return ok;
    }

    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

} // namespace esimguard::test
