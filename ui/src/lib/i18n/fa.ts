// Persian: enough to prove the mechanism (sign-in, status bar and availability, sidebar); the rest
// falls back to English.
import type { Messages } from './en';
import type { DeepPartial } from './index';

const fa: DeepPartial<Messages> = {
  signin: {
    title: 'ورود به فضای کاری',
    subtitle: 'همهٔ گفتگوهای مشتریان، در یک پنجره.',
    server: 'نشانی سرور',
    email: 'ایمیل',
    password: 'گذرواژه',
    submit: 'ورود',
    submitting: 'در حال ورود…',
    cancel: 'انصراف',
    accounts: 'حساب‌های این رایانه',
    signedOut: 'از حساب خارج شدید: {reason}',
    errors: {
      missing: 'نشانی سرور، ایمیل و گذرواژه را وارد کنید.',
      invalid_credentials: 'این ایمیل و گذرواژه با هیچ حسابی در این سرور جور نیست.',
      offline: 'دسترسی به سرور ممکن نیست. نشانی و اتصال اینترنت را بررسی کنید.',
      keychain_error: 'سوئیچ‌بورد نتوانست اطلاعات ورود را در جاکلیدی سیستم ذخیره کند. جاکلیدی را باز (یا نصب) کنید و دوباره تلاش کنید.',
      rate_limited: 'تلاش‌های ورود بیش از حد بود. یک دقیقه صبر کنید و دوباره تلاش کنید.',
      invalid: 'نشانی سرور را بررسی کنید: باید شبیه https://switchboard.example.com باشد.',
      forbidden: 'این حساب غیرفعال شده است. با مدیر تماس بگیرید.',
      token_revoked: 'مدیر این دستگاه را از حساب خارج کرده است. دوباره وارد شوید.',
      unknown: 'ورود ناموفق بود: {message}',
    },
  },
  views: {
    mine: 'مال من',
    unassigned: 'بدون مسئول',
    all: 'همه',
    mentions: 'اشاره‌ها',
    pinned: 'سنجاق‌شده',
    teams: 'تیم‌ها',
    inboxes: 'صندوق‌ها',
    labels: 'برچسب‌ها',
  },
  statusFilter: {
    label: 'وضعیت',
    open: 'باز',
    pending: 'در انتظار',
    snoozed: 'معوق',
    resolved: 'حل‌شده',
    all: 'همه',
  },
  statusbar: {
    online: 'آنلاین',
    connecting: 'در حال اتصال دوباره…',
    offline: 'آفلاین',
    auth_failed: 'نشست ورود منقضی شده',
    retry: 'تلاش دوباره',
    pending: { one: '{count} مورد در انتظار ارسال', other: '{count} مورد در انتظار ارسال' },
    allSent: 'همهٔ تغییرات ارسال شد',
    synced: 'همگام‌سازی {time}',
    neverSynced: 'هنوز همگام‌سازی نشده',
    dnd: 'مزاحم نشوید',
    dndOn: 'حالت «مزاحم نشوید» روشن است: اعلان‌ها متوقف شده‌اند',
    dndOff: 'اعلان‌ها روشن هستند',
    shortcuts: 'میان‌برها',
  },
  availability: {
    label: 'وضعیت حضور شما: {availability}',
    menu: 'تعیین وضعیت حضور',
    online: 'آنلاین',
    busy: 'مشغول',
    offline: 'آفلاین',
    onlineHint: 'گفتگوهای تازه می‌توانند به شما سپرده شوند',
    busyHint: 'گفتگوی تازه‌ای به شما سپرده نمی‌شود',
    offlineHint: 'شما در دسترس نیستید: چیزی به شما سپرده نمی‌شود',
    refusedOffline: 'شما آفلاین هستید: تا اتصال دوباره، وضعیت حضور تغییر نمی‌کند',
  },
  palette: {
    commands: {
      availability: 'تعیین وضعیت حضور: {availability}',
    },
  },
  time: {
    now: 'اکنون',
    minutes: '{n} دقیقه',
    hours: '{n} ساعت',
    days: '{n} روز',
    weeks: '{n} هفته',
    ago: '{time} پیش',
    justNow: 'همین حالا',
  },
};

export default fa;
