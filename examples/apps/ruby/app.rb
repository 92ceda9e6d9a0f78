# A small HTTP app that slipway swaps without dropping a request (stdlib only).
#
# Under slipway it takes the listening socket the agent passes (LISTEN_FDS),
# writes READY=1 to NOTIFY_FD once it serves, and on SIGTERM stops accepting,
# finishes the requests in flight and exits. Run by hand, it binds PORT.
require 'json'
require 'socket'

FIRST_FD = 3 # the sockets of run.listen are fds 3, 4, ... in that order
VERSION = ENV.fetch('SLIPWAY_VERSION', 'dev')

# The socket passed as run.listen's name, or nil when not started by slipway.
def inherited_server(name)
  count = ENV.fetch('LISTEN_FDS', '0').to_i
  return nil if count < 1 || ENV['LISTEN_PID'] != Process.pid.to_s

  i = ENV.fetch('LISTEN_FDNAMES', '').split(':').first(count).index(name)
  abort "no inherited socket named #{name.inspect} (LISTEN_FDNAMES=#{ENV['LISTEN_FDNAMES']})" if i.nil?
  TCPServer.for_fd(FIRST_FD + i)
end

# READY=1 on NOTIFY_FD: slipway then counts this version as ready.
def notify_ready
  fd = ENV.delete('NOTIFY_FD') or return
  IO.for_fd(fd.to_i, autoclose: false).syswrite("READY=1\n")
end

def answer(conn)
  request = conn.gets or return
  while (line = conn.gets) && line != "\r\n"; end # the headers: not needed here
  status, type, body =
    case request.split(' ')[1]
    when '/version' then [200, 'application/json', JSON.generate(version: VERSION, pid: Process.pid)]
    when '/', '/healthz' then [200, 'text/plain', "hello from ruby #{VERSION}\n"]
    else [404, 'text/plain', "not found\n"]
    end
  conn.write("HTTP/1.1 #{status} #{status == 200 ? 'OK' : 'Not Found'}\r\nContent-Type: #{type}\r\n" \
             "Content-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}")
rescue SystemCallError, IOError
  nil # the client went away
ensure
  conn.close
end

server = inherited_server('http') || TCPServer.new('127.0.0.1', ENV.fetch('PORT', '9292').to_i)
workers = []
acceptor = Thread.new do
  loop do
    conn = server.accept
    workers.select!(&:alive?)
    workers << Thread.new(conn) { |c| answer(c) }
  end
rescue IOError
  nil # closed on SIGTERM
end

stop_r, stop_w = IO.pipe
trap('TERM') { stop_w.write_nonblock('.') }
notify_ready
stop_r.read(1)
server.close # stop accepting: the new version takes the next connections
acceptor.join
workers.each(&:join) # finish the requests in flight
